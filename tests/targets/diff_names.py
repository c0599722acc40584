"""Functions whose names and file are hostile to every output format: markup (a function
named <script>...), terminal escape sequences and quotes. The diff renderers must show
them as text, never let them act. Code objects are renamed, since `def` cannot spell
such names; the file name comes from compile()."""
import sys

SCRIPT = "<script>alert('x')</script>"
ESCAPE = "red\x1b[31mALERT\x07\x1b]0;title\x07"


def spin(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def renamed(fn, name):
    kw = {"co_name": name}
    if sys.version_info >= (3, 11):
        kw["co_qualname"] = name
    fn.__code__ = fn.__code__.replace(**kw)
    return fn


def make_spin():
    def f(n):
        x = 0
        for i in range(n):
            x += i * i
        return x

    return f


script_fn = renamed(make_spin(), SCRIPT)
escape_fn = renamed(make_spin(), ESCAPE)
ns = {}
exec(compile("def odd_file(n):\n    x = 0\n    for i in range(n):\n        x += i\n    return x\n",
             "<file \"&'<b>\x1b[1m>", "exec"), ns)


def main(rounds):
    for _ in range(rounds):
        script_fn(20000)
        escape_fn(20000)
        ns["odd_file"](20000)
        spin(5000)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
