"""Two CPU-bound threads that contend for the GIL, one doing three times the CPU work
of the other, and a thread that sleeps. Each thread reports its native id and the CPU
time it really used (time.thread_time) as JSON on stdout."""
import json
import sys
import threading
import time

results = {}


def spin(name, cpu_seconds, ready):
    results[name] = {"tid": threading.get_native_id()}
    ready.wait()
    start = time.thread_time()
    x = 0
    while time.thread_time() - start < cpu_seconds:
        for _ in range(1000):
            x += 1
    results[name]["cpu"] = time.thread_time() - start


def sleeper(stop):
    results["sleeper"] = {"tid": threading.get_native_id()}
    start = time.thread_time()
    while not stop.is_set():
        time.sleep(0.01)
    results["sleeper"]["cpu"] = time.thread_time() - start


def main(unit):
    ready = threading.Event()
    stop = threading.Event()
    big = threading.Thread(target=spin, args=("big", 3 * unit, ready))
    small = threading.Thread(target=spin, args=("small", unit, ready))
    slow = threading.Thread(target=sleeper, args=(stop,))
    for t in (big, small, slow):
        t.start()
    time.sleep(0.05)
    ready.set()
    big.join()
    small.join()
    stop.set()
    slow.join()
    results["main"] = {"tid": threading.get_native_id()}
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 0.5)
