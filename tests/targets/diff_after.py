"""The program after a change (see diff_before.py): transform() does 3 times the work,
and this docstring is longer, so every function starts one line further down: the diff
must still match them by name and call transform() the change.
Used by tests/py/test_diff.py, which copies it to app.py before running it.
"""
import sys


def parse(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def transform(n):
    x = 0
    for i in range(n * 3):
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
