"""Keeps about N threads alive for SECONDS, each short-lived: threads start and end
continuously (thread states are created and freed under the sampler's feet). Each
thread computes a known sum; prints how many ran and whether every result was right."""
import sys
import threading
import time


def work(results, i):
    total = 0
    for k in range(2000 + i % 500):
        total += k
    results[i] = total == (2000 + i % 500) * (1999 + i % 500) // 2


def main(n, seconds):
    results = {}
    live = []
    started = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        live = [t for t in live if t.is_alive()]
        while len(live) < n:
            t = threading.Thread(target=work, args=(results, started), name=f"churn-{started}")
            t.start()
            live.append(t)
            started += 1
    for t in live:
        t.join()
    ok = len(results) == started and all(results.values())
    print(f"threads {'ok' if ok else 'WRONG'} {started >= 4 * n}")


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]))
