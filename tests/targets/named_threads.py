"""Threads with Python names spyglass must report: a non-ASCII one, one outside the
Basic Multilingual Plane, one renamed while it runs (`thread.name = ...`) and one left
with threading's default name. Prints {name: native thread id} as JSON at the end, the
renamed thread under its final name. argv[1]: seconds to run after the rename."""
import json
import sys
import threading
import time

stop = threading.Event()
ids = {}


def idle(key):
    ids[key] = threading.get_native_id()
    while not stop.is_set():
        time.sleep(0.005)


def busy(key):
    ids[key] = threading.get_native_id()
    x = 0
    while not stop.is_set():
        for i in range(500):
            x += i


def main(after):
    threads = [
        threading.Thread(target=busy, args=("worker-α",), name="worker-α"),
        threading.Thread(target=idle, args=("emoji 🧵",), name="emoji 🧵"),
        threading.Thread(target=busy, args=("renamed",), name="before-rename"),
        threading.Thread(target=idle, args=("default",)),
    ]
    for t in threads:
        t.start()
    time.sleep(0.4)
    threads[2].name = "after-rename"
    stop.wait(after)
    stop.set()
    for t in threads:
        t.join()
    names = {"worker-α": "worker-α", "emoji 🧵": "emoji 🧵", "renamed": "after-rename",
             "default": threads[3].name}
    print(json.dumps({names[k]: v for k, v in ids.items()}, ensure_ascii=True))


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
