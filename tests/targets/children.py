"""Child processes for --subprocesses.

  children.py pool METHOD   a multiprocessing pool of 4 workers (fork, spawn or
                            forkserver), each running pool_work for about 0.8 s
  children.py subprocess    `sys.executable` children, one of which starts a grandchild
  children.py short N       N children one after another, each alive about 0.1 s
"""
import multiprocessing
import os
import subprocess
import sys
import time


def burn(seconds):
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        for i in range(1000):
            x += i * i
    return x


def pool_work(i):
    burn(0.8)
    return os.getpid()


def child_work():
    burn(0.6)


def grandchild_work():
    burn(0.6)


def short_lived():
    burn(0.1)


def main():
    mode = sys.argv[1]
    if mode == "pool":
        ctx = multiprocessing.get_context(sys.argv[2])
        with ctx.Pool(4) as pool:
            pids = pool.map(pool_work, range(4), chunksize=1)
        print(len(set(pids)), flush=True)
    elif mode == "subprocess":
        code = ("import sys; sys.path.insert(0, %r); import children; children.%s()")
        here = os.path.dirname(os.path.abspath(__file__))
        grand = code % (here, "grandchild_work")
        spawn_grand = ("import subprocess, sys; subprocess.run([sys.executable, '-c', %r], "
                       "check=True)" % grand)
        procs = [subprocess.Popen([sys.executable, "-c", code % (here, "child_work")]),
                 subprocess.Popen([sys.executable, "-c", spawn_grand])]
        for p in procs:
            p.wait()
    elif mode == "short":
        here = os.path.dirname(os.path.abspath(__file__))
        code = "import sys; sys.path.insert(0, %r); import children; children.short_lived()"
        for _ in range(int(sys.argv[2])):
            subprocess.run([sys.executable, "-c", code % here], check=True)
            time.sleep(0.02)


if __name__ == "__main__":
    main()
