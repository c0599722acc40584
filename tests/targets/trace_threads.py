"""Three threads run the same function a known number of times; prints each thread's
name and native id."""
import json
import threading


def tick():
    return 1


def worker(n, out):
    out[threading.current_thread().name] = threading.get_native_id()
    total = 0
    for _ in range(n):
        total += tick()
    return total


def main():
    out = {}
    threads = [threading.Thread(target=worker, args=(n, out), name=f"w{n}")
               for n in (1000, 2000, 3000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
