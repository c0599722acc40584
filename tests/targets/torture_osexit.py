"""Starts THREADS busy threads, then the main thread calls os._exit(9) while they all
still run Python code: the interpreter ends without any cleanup."""
import os
import sys
import threading
import time


def spin():
    while True:
        sum(range(1000))


def main(nthreads, seconds):
    for _ in range(nthreads):
        threading.Thread(target=spin, daemon=True).start()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sum(range(1000))
    print("exiting", flush=True)
    os._exit(9)


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]))
