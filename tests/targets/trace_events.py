"""Every kind of event a function-level tracer turns into calls and returns, each a
known number of times, so the counts can be checked without another profiler: a
builtin that returns 20 times and raises 20 times, a generator started once and
resumed 10 times, a generator thrown into 5 times and closed, a coroutine that
suspends 4 times, and an exception unwinding through 7 frames, 3 times, after which
the caller goes on. Deterministic: no clocks, no threads."""


def produce(n):
    for i in range(n):
        yield i


def absorb():
    while True:
        try:
            yield
        except KeyError:
            pass


class Pause:
    def __await__(self):
        yield


async def waits(n):
    for _ in range(n):
        await Pause()


def sink(n):
    if n == 0:
        raise ValueError("bottom")
    sink(n - 1)


def after():
    pass


def main():
    # a builtin function: returns for odd i, raises ZeroDivisionError for even i
    for i in range(40):
        try:
            divmod(i, i % 2)
        except ZeroDivisionError:
            pass
    total = sum(produce(10))
    gen = absorb()
    next(gen)
    for _ in range(5):
        gen.throw(KeyError)
    gen.close()
    coro = waits(4)
    try:
        while True:
            coro.send(None)
    except StopIteration:
        pass
    for _ in range(3):
        try:
            sink(6)
        except ValueError:
            after()
    return total


if __name__ == "__main__":
    print(main())
