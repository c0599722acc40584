"""Twenty named threads for argv[1] seconds (default 5): ten computing in a few nested
Python calls, ten sleeping in a Python loop, plus the main thread waiting. What the
thread-name benchmark samples (bench/threadnames_overhead.py)."""
import sys
import threading
import time

stop = threading.Event()


def inner(n):
    return sum(i * i for i in range(n))


def compute():
    while not stop.is_set():
        inner(300)


def nap():
    while not stop.is_set():
        time.sleep(0.01)


def main(seconds):
    threads = [threading.Thread(target=compute if i % 2 else nap, name=f"worker-{i:02d} ✓")
               for i in range(20)]
    for t in threads:
        t.start()
    stop.wait(seconds)
    stop.set()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)
