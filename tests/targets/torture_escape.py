"""Runs hot code whose function name and file name are full of terminal control
sequences (clear screen, set title, colours, carriage return, bidi override), and whose
source lines hold them too. argv[1]: a directory to write that source file in."""
import os
import sys
import time

NAME = "evil\x1b[2J\x1b]0;pwned\x07\r\u202etxt.exe\x9b31m"
FILE = "f\x1b[31mile\x07\x08.py"
SOURCE = (
    "import time\n"
    "def hot(seconds):\n"
    "    s = '\x1b[5mblink\x1b[0m\x1b]0;title\x07'  # \x1b[2K\r\n"
    "    end = time.monotonic() + seconds\n"
    "    while time.monotonic() < end:\n"
    "        s = s[::-1]\n"
    "    return s\n"
)


def main(directory, seconds):
    path = os.path.join(directory, FILE)
    with open(path, "w") as f:
        f.write(SOURCE)
    ns = {}
    exec(compile(SOURCE, path, "exec"), ns)
    hot = ns["hot"]
    fields = {"co_name": NAME}
    if sys.version_info >= (3, 11):
        fields["co_qualname"] = NAME
    hot.__code__ = hot.__code__.replace(**fields)
    hot(seconds)
    print("done")


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
