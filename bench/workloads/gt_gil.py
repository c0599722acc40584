"""Ground truth, hard case: GIL contention. Two CPU-bound threads contend for the GIL,
big_worker doing three times the work of small_worker; each measures the CPU time it
really got (time.thread_time). A wall-clock profiler sees both threads busy the whole
time; the true CPU (and GIL-held) split is 3:1."""
import sys
import threading
import time

from _truth import Truth


def spin(units):
    x = 0
    for _ in range(units):
        for i in range(1000):
            x += i & 3
    return x


def big_worker(truth, units, ready):
    ready.wait()
    t = time.thread_time()
    spin(3 * units)
    truth.add("big_worker", time.thread_time() - t)


def small_worker(truth, units, ready):
    ready.wait()
    t = time.thread_time()
    spin(units)
    truth.add("small_worker", time.thread_time() - t)


def main(scale):
    truth = Truth(kind="cpu")
    ready = threading.Event()
    units = int(2100 * scale)
    threads = [threading.Thread(target=f, args=(truth, units, ready))
               for f in (big_worker, small_worker)]
    for t in threads:
        t.start()
    ready.set()
    for t in threads:
        t.join()
    truth.finish()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
