"""The sampler-cost case: 8 CPU-bound threads, each running 50 frames deep, so every
tick reads 8 stacks of 50 frames. Ground truth: each thread's CPU time (they share the
work equally), keyed by the leaf function's name."""
import sys
import threading
import time

from _truth import Truth

DEPTH = 50


def spin(units):
    x = 0
    for _ in range(units):
        for i in range(1000):
            x += i & 3
    return x


def descend(depth, units, truth):
    if depth > 1:
        return descend(depth - 1, units, truth)
    t = time.thread_time()
    spin(units)
    truth.add("descend", time.thread_time() - t)


def worker(units, truth):
    descend(DEPTH - 2, units, truth)  # worker + descend * 48 + spin = 50 frames


def main(scale):
    truth = Truth(kind="cpu")
    units = int(1200 * scale)
    threads = [threading.Thread(target=worker, args=(units, truth)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    truth.finish()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
