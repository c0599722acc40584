"""Recursion DEPTH frames deep, up and down for SECONDS: spins at the bottom, unwinds,
descends again. Prints the number of descents' checksum (deterministic per descent)."""
import sys
import time


def descend(n, end):
    if n == 0:
        t = 0
        while time.monotonic() < end:
            t += 1
        return 1
    return descend(n - 1, end) + 1


def main(depth, seconds):
    sys.setrecursionlimit(depth + 200)
    stop = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < stop:
        assert descend(depth, time.monotonic() + 0.05) == depth + 1
        rounds += 1
    print(f"recursion ok {rounds > 0}")


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]))
