"""The program before a change (see diff_after.py): three functions share the work
evenly, interleaved in small slices so that no phase of the run favours one. The work is
counted in loop iterations, not time, so a function made slower really takes longer.
Used by tests/py/test_diff.py, which copies it to app.py before running it."""
import sys


def parse(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def transform(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def render(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def main(rounds):
    for _ in range(rounds):
        parse(20000)
        transform(20000)
        render(20000)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
