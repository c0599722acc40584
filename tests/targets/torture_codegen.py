"""Creates, runs and frees code objects continuously for SECONDS: every round compiles
a fresh module from generated source, runs its function and drops it, so the next
round's code object, name, file name and line table are likely to land on the very
addresses the previous round's just freed.

Generated function k is named g<k> (zero-padded, so all names have one length), lives
in file gen<k>.py (same length again) at line FIRST_LINE, and its body is identical
in shape for every k: the code objects differ only in their names. A sampler that
kept a stale name for a reused address would report g<k> with another file, or give
one function the time of many: the test checks both."""
import sys
import time

FIRST_LINE = 3
BODY = """
def {name}(n):
    t = 0
    for i in range(n):
        t += i
    return t
"""


def main(seconds, n):
    stop = time.monotonic() + seconds
    k = 0
    ok = True
    while time.monotonic() < stop:
        name = f"g{k:06d}"
        src = "\n" * (FIRST_LINE - 2) + BODY.format(name=name)
        code = compile(src, f"gen{k:06d}.py", "exec")
        ns = {}
        exec(code, ns)
        ok = ok and ns[name](n) == n * (n - 1) // 2
        del ns, code
        k += 1
    print(f"codegen {'ok' if ok else 'WRONG'} {k > 100}")
    print(f"rounds {k}", file=sys.stderr)


if __name__ == "__main__":
    main(float(sys.argv[1]), int(sys.argv[2]))
