"""A multiprocessing pool (start method argv[1]) maps work() over 12 items; each call
makes item+1 calls of tick(). With argv[2] == "subprocess" it also runs a child Python
with subprocess. Prints the start method and the pids that did work."""
import json
import multiprocessing
import os
import subprocess
import sys


def tick():
    return 1


def work(item):
    total = 0
    for _ in range(item + 1):
        total += tick()
    return os.getpid()


def main(method, extra):
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(2) as pool:
        pids = sorted(set(pool.map(work, range(12))))
    if extra == "subprocess":
        subprocess.run([sys.executable, "-c", "import os\ndef child_fn():\n    return 1\n"
                        "for _ in range(5):\n    child_fn()\n"], check=True)
    print(json.dumps({"method": method, "pids": pids}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")
