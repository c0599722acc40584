"""Line-heavy: long loop bodies of cheap lines (arithmetic, indexing, branches) in two
functions, the per-line cost a line profiler pays for. Ground truth: each function's
wall time."""
import sys

from _truth import Truth


def arith(n):
    a = 0
    b = 1
    c = 2
    for i in range(n):
        a += i
        b = (b * 3) % 1009
        c = c ^ i
        if a & 1:
            a -= 1
        else:
            a += 1
        b += c & 7
        c = (c + b) & 0xFFFF
    return a + b + c


def indexing(n):
    data = list(range(64))
    s = 0
    for i in range(n):
        j = i & 63
        s += data[j]
        data[j] = s & 0xFF
        if s > 1000:
            s -= 1000
        k = data[(j + 1) & 63]
        s += k
    return s


def main(scale):
    truth = Truth()
    for _ in range(int(60 * scale)):
        with truth.part("arith"):
            arith(15000)
        with truth.part("indexing"):
            indexing(15000)
    truth.finish()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
