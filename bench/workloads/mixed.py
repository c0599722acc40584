"""Realistic mixed work: JSON encode/decode, regular expressions, sorting with key
functions, and small classes with inheritance and properties. Most of the time is in C
code called from Python. Ground truth: the wall time of each part."""
import json
import random
import re
import sys

from _truth import Truth

WORD = re.compile(r"\b([a-z]+)@([a-z]+)\.(com|org|net)\b")


def make_doc(rng, n):
    return [{"id": i, "name": f"user{i}", "tags": [rng.choice("abcdef") for _ in range(5)],
             "score": rng.random(), "nested": {"a": i, "b": [i, i + 1]}} for i in range(n)]


def do_json(doc):
    text = json.dumps(doc)
    back = json.loads(text)
    return len(back)


def do_regex(text):
    return sum(1 for _ in WORD.finditer(text)) + len(re.sub(r"\d+", "#", text))


def do_sort(rows):
    a = sorted(rows, key=lambda r: (r[1], -r[0]))
    b = sorted(rows, key=lambda r: r[2])
    return a[0][0] + b[-1][0]


class Shape:
    def __init__(self, size):
        self.size = size

    @property
    def area(self):
        return self.compute()


class Square(Shape):
    def compute(self):
        return self.size * self.size


class Circle(Shape):
    def compute(self):
        return 3.14159 * self.size * self.size


def do_classes(n):
    shapes = [Square(i) if i & 1 else Circle(i) for i in range(n)]
    return sum(s.area for s in shapes)


def main(scale):
    truth = Truth()
    rng = random.Random(7)
    doc = make_doc(rng, 300)
    text = " ".join(f"x{i} {rng.choice('abc')}name@host.{rng.choice(['com', 'org'])} 12{i}"
                    for i in range(3000))
    rows = [(i, rng.randint(0, 100), rng.random()) for i in range(5000)]
    for _ in range(int(36 * scale)):
        with truth.part("do_json"):
            do_json(doc)
        with truth.part("do_regex"):
            do_regex(text)
        with truth.part("do_sort"):
            do_sort(rows)
        with truth.part("do_classes"):
            do_classes(6000)
    truth.finish()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
