"""Ground truth, hard case: time inside C calls. in_c spends its time in C functions
(sorting, zlib, sha256: the last two release the GIL), in_python in an interpreted loop.
A profiler must charge C time to the Python function that made the call. The wall time
of each is measured around every call."""
import hashlib
import random
import sys
import zlib

from _truth import Truth


def in_c(data, nums):
    zlib.compress(data, 6)
    hashlib.sha256(data).digest()
    sorted(nums)


def in_python(n):
    x = 0
    for i in range(n):
        x += i & 7
    return x


def main(scale):
    rng = random.Random(3)
    data = bytes(rng.getrandbits(8) for _ in range(200_000))
    nums = [rng.random() for _ in range(20_000)]
    truth = Truth()
    for _ in range(int(40 * scale)):
        with truth.part("in_c"):
            in_c(data, nums)
        with truth.part("in_python"):
            in_python(40000)
    truth.finish()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
