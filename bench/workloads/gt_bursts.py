"""Ground truth, hard case: sub-millisecond bursts. Two functions alternate in calls of
about 0.2 ms and 0.07 ms, far shorter than a 1 ms sampling interval, in a loop whose
period (under 0.3 ms) can alias with a fixed-rate sampler. The wall time of each is
measured around every call."""
import sys

from _truth import Truth


def burst_long(n):
    x = 0
    for i in range(n):
        x += i & 7
    return x


def burst_short(n):
    x = 0
    for i in range(n):
        x += i & 7
    return x


def main(scale):
    truth = Truth()
    for _ in range(int(2000 * scale)):
        with truth.part("burst_long"):
            burst_long(3000)
        with truth.part("burst_short"):
            burst_short(1000)
    truth.finish()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
