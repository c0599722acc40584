"""@spyglass.lines limits line tracing to the decorated functions (a method too)."""
import json

import spyglass


def helper(x):
    return x * 2


@spyglass.lines
def hot(n):
    s = 0
    for i in range(n):
        s += helper(i)
    return s


class Worker:
    @spyglass.lines
    def run(self):
        return hot(3)


def plain():
    return sum(helper(i) for i in range(4))


if __name__ == "__main__":
    print(json.dumps([hot(10), Worker().run(), plain()]))
