"""Deep recursion with real work at every level: a tracer that counts a recursive
function's frames separately reports its cumulative time many times over. Prints the
CPU time the work really took, measured here (unlike elapsed time, a busy machine
does not change it)."""
import json
import sys
import time


def descend(depth):
    x = 0
    for i in range(2000):
        x += i * i
    if depth:
        return descend(depth - 1) + x
    return x


def work(rounds):
    total = 0
    for _ in range(rounds):
        total += descend(40)
    return total


if __name__ == "__main__":
    start = time.thread_time()
    work(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
    print(json.dumps({"work": time.thread_time() - start}))
