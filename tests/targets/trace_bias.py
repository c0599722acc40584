"""Function bias: the same amount of counting done through a tiny function called in
a loop (call_heavy) and inline (inlined). Prints how the time really splits, measured
here around each phase with the thread's CPU clock (a busy machine does not change it),
alternating the phases."""
import json
import sys
import time


def tiny(x):
    return x + 1


def call_heavy(n):
    s = 0
    for _ in range(n):
        s = tiny(s)
    return s


def inlined(n):
    s = 0
    for _ in range(n):
        s = s + 1
        s = s * 1
        s = s - 0
    return s


def main(rounds, n_calls, n_inline):
    spent = {"call_heavy": 0.0, "inlined": 0.0}
    for _ in range(rounds):
        t0 = time.thread_time()
        call_heavy(n_calls)
        t1 = time.thread_time()
        inlined(n_inline)
        t2 = time.thread_time()
        spent["call_heavy"] += t1 - t0
        spent["inlined"] += t2 - t1
    print(json.dumps(spent))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
