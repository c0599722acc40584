"""Line events of every shape, for comparing line hits with sys.settrace: loops of
all kinds (one written on a single line), comprehensions, generators, a coroutine,
exceptions caught, re-raised and cleaned up, with blocks, lambdas, a class body,
recursion, multi-line expressions and statements, early returns and loop else."""
import json


def loops(n):
    total = 0
    for i in range(n):
        if i % 3 == 0:
            continue
        total += i
    else:
        total += 1
    j = 0
    while j < n:
        j += 2
        if j > 10:
            break
    k = 0
    while k < n: k += 1
    return total + j + k


def comprehensions(n):
    squares = [i * i for i in range(n)]
    evens = {i for i in squares if i % 2 == 0}
    table = {
        i: i + 1
        for i in range(n)
        if i
    }
    lazy = sum(x for x in range(n))
    return len(squares) + len(evens) + len(table) + lazy


def numbers(n):
    for i in range(n):
        yield i
        yield -i


async def inner(x):
    return x + 1


async def outer(n):
    total = 0
    for i in range(n):
        total += await inner(i)
    return total


def run_coroutine(coro):
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value


def risky(x):
    if x % 4 == 0:
        raise ValueError(x)
    return x


def exceptions(n):
    caught = 0
    for i in range(n):
        try:
            risky(i)
        except ValueError:
            caught += 1
        finally:
            caught += 0
    try:
        try:
            risky(0)
        except ValueError as exc:
            raise KeyError("again") from exc
    except KeyError:
        caught += 1
    return caught


class Box:
    size = 3
    doubled = size * 2

    def __init__(self, value):
        self.value = value

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def depth(n):
    if n == 0:
        return 0
    return 1 + depth(n - 1)


def long_call(a,
              b,
              c):
    return (a +
            b +
            c)


def main():
    results = [
        loops(20),
        comprehensions(12),
        sum(numbers(5)),
        run_coroutine(outer(4)),
        exceptions(9),
        depth(6),
        long_call(1,
                  2,
                  3),
    ]
    with Box(2) as box:
        results.append(box.value)
    key = lambda v: -v  # noqa: E731
    results.sort(key=key)
    assert results
    return results


if __name__ == "__main__":
    print(json.dumps(main()))
