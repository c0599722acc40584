"""A small program with a known shape, for `make demo` and the README.

The main thread parses and ranks records (most of its time in json's decoder, called
from `parse_records`); a worker thread computes primes and contends with it for the
GIL; a third thread mostly sleeps, so the report shows it idle."""

import json
import threading
import time


def make_records(n):
    return [{"id": i, "price": f"{(i * 7919) % 1000 / 7:.3f}", "tags": ["a", "b"]} for i in range(n)]


def parse_records(blob):
    out = []
    for rec in json.loads(blob):
        price = float(rec["price"])
        out.append((price, rec["id"]))
    return out


def rank(items):
    return sorted(items, reverse=True)[:10]


def primes_below(n):
    found = []
    for k in range(2, n):
        is_prime = True
        for d in range(2, int(k ** 0.5) + 1):
            if k % d == 0:
                is_prime = False
                break
        if is_prime:
            found.append(k)
    return found


def worker(stop):
    while not stop.is_set():
        primes_below(20000)


def sleeper(stop):
    while not stop.is_set():
        time.sleep(0.05)


def main():
    stop = threading.Event()
    threads = [threading.Thread(target=worker, args=(stop,), name="primes"),
               threading.Thread(target=sleeper, args=(stop,), name="sleeper")]
    for t in threads:
        t.start()
    blob = json.dumps(make_records(20000))
    deadline = time.monotonic() + 2.0
    best = []
    while time.monotonic() < deadline:
        best = rank(parse_records(blob))
    stop.set()
    for t in threads:
        t.join()
    print("best:", best[:3])


if __name__ == "__main__":
    main()
