"""A long mixed workload for `make torture-long`: thread churn, recursion, generators
and code objects re-created with the same names (so the symbol cache churns while the
set of distinct stacks stays bounded) for SECONDS."""
import sys
import threading
import time


def leaf(n):
    return sum(range(n))


def recurse(n):
    return leaf(200) if n == 0 else recurse(n - 1)


def gen(depth):
    if depth == 0:
        yield from range(10)
    else:
        yield from gen(depth - 1)


def codegen(k):
    ns = {}
    exec(compile(f"def g{k % 50}():\n    return sum(range(300))\n", f"gen{k % 50}.py", "exec"), ns)
    return ns[f"g{k % 50}"]()


def worker(i):
    recurse(i % 40)
    sum(gen(i % 30))


def main(seconds):
    end = time.monotonic() + seconds
    k = 0
    live = []
    while time.monotonic() < end:
        live = [t for t in live if t.is_alive()]
        while len(live) < 20:
            t = threading.Thread(target=worker, args=(k,))
            t.start()
            live.append(t)
            k += 1
        codegen(k)
        recurse(k % 100)
        time.sleep(0.001)
    for t in live:
        t.join()
    print("long ok")


if __name__ == "__main__":
    main(float(sys.argv[1]))
