"""Ground truth, the plain case: three leaf functions do fixed amounts of pure-Python
work in the ratio 6:3:1, interleaved in short calls (a few ms each) so no phase of the
run favours one. The wall time of each is measured around every call."""
import sys

from _truth import Truth


def sixty(n):
    x = 0
    for i in range(6 * n):
        x += i & 7
    return x


def thirty(n):
    x = 0
    for i in range(3 * n):
        x += i & 7
    return x


def ten(n):
    x = 0
    for i in range(n):
        x += i & 7
    return x


def main(scale):
    truth = Truth()
    for _ in range(int(150 * scale)):
        with truth.part("sixty"):
            sixty(5000)
        with truth.part("thirty"):
            thirty(5000)
        with truth.part("ten"):
            ten(5000)
    truth.finish()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
