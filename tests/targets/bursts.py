"""Sub-millisecond calls: burst_long (about 0.2 ms) and burst_short (about 0.07 ms)
alternate for SECONDS, far shorter than a sampling period. The time each really got is
measured around every call and printed as JSON: a sampler that loses samples at call
boundaries (where a stack is most often caught changing) under-counts the short one."""
import json
import sys
import time


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


def main(total):
    spent = {"burst_long": 0.0, "burst_short": 0.0}
    clock = time.perf_counter
    end = clock() + total
    while clock() < end:
        a = clock()
        burst_long(3000)
        b = clock()
        burst_short(1000)
        c = clock()
        spent["burst_long"] += b - a
        spent["burst_short"] += c - b
    print(json.dumps(spent))


if __name__ == "__main__":
    main(float(sys.argv[1]))
