"""A little of everything a function-level tracer must count exactly as cProfile does:
recursion (direct and mutual), generators (consumed, closed, thrown into), a coroutine
driven by hand, classes (properties, static and class methods, super(), operators),
exceptions raised through many frames and by builtins, builtins of every kind (module
functions, methods of builtin types, builtins calling back into Python), decorators,
closures, comprehensions and context managers. Deterministic: no clocks, no threads."""
import functools


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)


def count_up(n):
    for i in range(n):
        yield i


def closable():
    try:
        while True:
            yield 1
    finally:
        pass


def catcher():
    while True:
        try:
            yield "ok"
        except KeyError:
            yield "caught"


async def leaf(x):
    return x * 2


async def branch(n):
    total = 0
    for i in range(n):
        total += await leaf(i)
    return total


def drive(coro):
    try:
        while True:
            coro.send(None)
    except StopIteration as stop:
        return stop.value


class Shape:
    count = 0

    def __init__(self, size):
        self.size = size
        Shape.count += 1

    @property
    def area(self):
        return self.size * self.size

    @staticmethod
    def unit():
        return Shape(1)

    @classmethod
    def made(cls):
        return cls.count

    def __lt__(self, other):
        return self.area < other.area

    def __eq__(self, other):
        return self.size == other.size

    __hash__ = object.__hash__


class Square(Shape):
    def __init__(self, size):
        super().__init__(size)
        self.kind = "square"


def deep(n):
    if n == 0:
        raise ValueError("bottom")
    return deep(n - 1)


def traced(func):
    @functools.wraps(func)
    def wrapper(*args):
        return func(*args)
    return wrapper


@traced
def decorated(x):
    return x + 1


def make_adder(k):
    def add(x):
        return x + k
    return add


class Guard:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def main():
    fib(12)
    is_even(25)
    total = sum(count_up(20))
    gen = closable()
    next(gen)
    next(gen)
    gen.close()
    c = catcher()
    next(c)
    c.throw(KeyError("k"))
    next(c)
    c.close()
    total += drive(branch(5))
    shapes = [Square(s) for s in (5, 3, 8, 1)] + [Shape.unit()]
    shapes.sort()
    ordered = sorted(shapes, key=lambda s: -s.area)
    total += Shape.made() + len(ordered) + max(s.area for s in shapes)
    total += sum(map(make_adder(3), range(10)))
    total += sum(decorated(i) for i in range(7))
    words = {}
    for w in "the quick brown fox jumps over the lazy dog the end".split():
        words[w] = words.get(w, 0) + 1
    text = ",".join(sorted(words))
    items = []
    for i in range(6):
        items.append(i)
        items.extend([i, i])
    for i in range(3):
        try:
            deep(8)
        except ValueError:
            total += 1
    for bad in ("1", "x", "2", "y"):
        try:
            total += int(bad)
        except ValueError:
            total -= 1
    with Guard():
        total += len(text) + len(items) + isinstance(text, str)
    return total


if __name__ == "__main__":
    print(main())
