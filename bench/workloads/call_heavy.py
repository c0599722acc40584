"""Call-heavy: deep recursion (fib) and many tiny methods on small objects, interleaved.
Ground truth: the wall time of each part (fib, methods)."""
import sys

from _truth import Truth


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Vec:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def add(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def scale(self, k):
        return Vec(self.x * k, self.y * k)

    def dot(self, other):
        return self.x * other.x + self.y * other.y

    def norm2(self):
        return self.dot(self)


def methods(n):
    acc = Vec(0, 0)
    step = Vec(1, 2)
    total = 0
    for i in range(n):
        acc = acc.add(step.scale(i & 3))
        total += acc.norm2() & 0xFF
    return total


def main(scale):
    truth = Truth()
    for _ in range(int(60 * scale)):
        with truth.part("fib"):
            fib(22)
        with truth.part("methods"):
            methods(4000)
    truth.finish()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
