"""Deep recursion: `descend` calls itself 60 levels deep and burns time at every level,
so a profiler that counts each frame of a stack separately reports its total far above
100%."""
import sys
import time


def descend(depth):
    x = 0
    for i in range(300):
        x += i * i
    if depth:
        return descend(depth - 1) + x
    return x


def main(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        descend(60)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.5)
