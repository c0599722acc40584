"""Many short-lived child processes: the program starts small Python children (two at a
time) that each compute briefly and exit. The work time includes their start-up, which
is what a profiler that follows children slows down."""
import subprocess
import sys

from _truth import Truth

CHILD = "sum(i * i for i in range(150000))"  # one line: py-spy puts the command line in a frame


def spawn_batch():
    procs = [subprocess.Popen([sys.executable, "-c", CHILD]) for _ in range(2)]
    for p in procs:
        p.wait()


def main(scale):
    truth = Truth()
    for _ in range(int(6 * scale)):
        with truth.part("spawn_batch"):
            spawn_batch()
    truth.finish(children=int(6 * scale) * 2)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
