"""A loop whose cost is almost all on one line (marked HOT); the line number the
profiler reports for it must be the one in this file."""
import math
import sys
import time


def work(seconds):
    end = time.perf_counter() + seconds
    total = 0.0
    while time.perf_counter() < end:
        for i in range(2000):
            total += math.sqrt(i) * math.sin(i) * math.cos(i) ** 2 + math.log(i + 1.5)  # HOT
        total = total % 1000.0
    return total


if __name__ == "__main__":
    print(work(float(sys.argv[1]) if len(sys.argv) > 1 else 1.5))
