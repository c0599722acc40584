"""The highest-rate case: one thread, 20 frames deep, CPU-bound for a fixed amount of
work; used to see how many samples per second a sampler can really take."""
import sys

from _truth import Truth

DEPTH = 20


def spin(units):
    x = 0
    for _ in range(units):
        for i in range(1000):
            x += i & 3
    return x


def descend(depth, units):
    if depth > 1:
        return descend(depth - 1, units)
    return spin(units)


def main(scale):
    truth = Truth()
    with truth.part("descend"):
        descend(DEPTH - 2, int(12000 * scale))  # main + descend * 18 + spin = 20 frames
    truth.finish()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
