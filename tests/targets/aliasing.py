"""Periodic code at exactly the sampling period: every millisecond, the first half in
first_half(), the second in second_half(), locked to CLOCK_MONOTONIC. A sampler ticking
every 1.000 ms without jitter would find the program in the same half at every tick and
report one function for nearly all the time; the truth, measured here, is 50/50.
Prints the time each half really got as JSON."""
import json
import sys
import time

PERIOD = 0.001


def spin_until(t):
    x = 0
    while time.perf_counter() < t:
        x += 1
    return x


def first_half(until):
    return spin_until(until)


def second_half(until):
    return spin_until(until)


def main(total):
    spent = {"first_half": 0.0, "second_half": 0.0}
    start = time.perf_counter()
    k = 0
    while time.perf_counter() < start + total:
        t0 = start + k * PERIOD
        a = time.perf_counter()
        first_half(t0 + PERIOD / 2)
        b = time.perf_counter()
        second_half(t0 + PERIOD)
        spent["first_half"] += b - a
        spent["second_half"] += time.perf_counter() - b
        k = max(k + 1, int((time.perf_counter() - start) / PERIOD))
    print(json.dumps(spent))


if __name__ == "__main__":
    main(float(sys.argv[1]))
