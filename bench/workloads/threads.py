"""Threads: three CPU-bound threads with a known 1:2:3 split of work, plus two blocked
threads (one waits on an Event, one sleeps in a loop). Ground truth: each worker's CPU
time (time.thread_time), keyed by its function name."""
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


def cpu_one(truth, units):
    t = time.thread_time()
    spin(units)
    truth.add("cpu_one", time.thread_time() - t)


def cpu_two(truth, units):
    t = time.thread_time()
    spin(2 * units)
    truth.add("cpu_two", time.thread_time() - t)


def cpu_three(truth, units):
    t = time.thread_time()
    spin(3 * units)
    truth.add("cpu_three", time.thread_time() - t)


def blocked_wait(event):
    event.wait()


def blocked_sleep(event):
    while not event.is_set():
        time.sleep(0.005)


def main(scale):
    truth = Truth(kind="cpu")
    units = int(1500 * scale)
    done = threading.Event()
    idle = [threading.Thread(target=f, args=(done,)) for f in (blocked_wait, blocked_sleep)]
    busy = [threading.Thread(target=f, args=(truth, units)) for f in (cpu_one, cpu_two, cpu_three)]
    for t in idle + busy:
        t.start()
    for t in busy:
        t.join()
    done.set()
    for t in idle:
        t.join()
    truth.finish()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
