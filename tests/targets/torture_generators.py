"""Deeply nested generators (yield from, DEPTH levels) and coroutines (asyncio tasks
awaiting DEPTH nested coroutines) switching constantly for SECONDS. Frames are
suspended and resumed at every step, owned by generators, not by the thread."""
import asyncio
import sys
import time


def nested_gen(depth):
    if depth == 0:
        for i in range(50):
            yield i
        return
    yield from nested_gen(depth - 1)


async def nested_coro(depth, counter):
    if depth == 0:
        for _ in range(20):
            counter[0] += 1
            await asyncio.sleep(0)
        return
    await nested_coro(depth - 1, counter)


async def tasks(depth, ntasks, counter):
    await asyncio.gather(*(nested_coro(depth, counter) for _ in range(ntasks)))


def main(depth, seconds):
    stop = time.monotonic() + seconds
    gen_ok = coro_ok = True
    while time.monotonic() < stop:
        # several generator stacks interleaved: each next() resumes DEPTH frames
        gens = [nested_gen(depth) for _ in range(4)]
        sums = [0] * 4
        for _ in range(50):
            for j, g in enumerate(gens):
                sums[j] += next(g)
        gen_ok = gen_ok and sums == [sum(range(50))] * 4
        counter = [0]
        asyncio.run(tasks(depth, 10, counter))
        coro_ok = coro_ok and counter[0] == 200
    print(f"generators {'ok' if gen_ok else 'WRONG'} coroutines {'ok' if coro_ok else 'WRONG'}")


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]))
