"""A fixed amount of CPU-bound work (recursive calls, 20-30 frames deep, and a hot loop);
prints the seconds the work took, measured inside the program, so that interpreter
start-up and profiler start-up do not count."""
import sys
import time


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def loop(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def main(rounds):
    start = time.perf_counter()
    for _ in range(rounds):
        fib(22)
        loop(200_000)
    print(f"{time.perf_counter() - start:.6f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
