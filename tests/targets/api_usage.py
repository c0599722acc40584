"""Uses the in-process API the way a program would; each scenario writes its profiles
under OUT_DIR and prints what really happened (thread ids, file names) as JSON on the
last line of stdout. Usage: api_usage.py SCENARIO OUT_DIR."""
import json
import os
import signal
import sys
import threading
import time

import spyglass


def spin(seconds):
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        for _ in range(200):
            x += 1
    return x


def hot_main(seconds):
    return spin(seconds)


def hot_worker_a(seconds):
    return spin(seconds)


def hot_worker_b(seconds):
    return spin(seconds)


def threads(out):
    tids = {"main": threading.get_native_id()}

    def worker(role, fn):
        tids[role] = threading.get_native_id()
        fn(0.6)

    with spyglass.profile(rate=1000) as p:
        ts = [threading.Thread(target=worker, args=("a", hot_worker_a)),
              threading.Thread(target=worker, args=("b", hot_worker_b))]
        for t in ts:
            t.start()
        hot_main(0.6)
        for t in ts:
            t.join()
    p.save(os.path.join(out, "threads.pb.gz"))
    return {"tids": tids}


def inner_bare(seconds):
    return spin(seconds)


@spyglass.profile
def bare():
    return inner_bare(0.2)


def inner_args(seconds):
    return spin(seconds)


def recurse(n):
    return inner_args(0.05) if n == 0 else recurse(n - 1)


def decorator(out):
    with_args = spyglass.profile(rate=2000, output=os.path.join(out, "deco-{n}.pb.gz"))(
        recurse)
    assert bare() is not None
    with_args(3)
    with_args(3)
    bare.profiler.save(os.path.join(out, "bare.pb.gz"))
    return {"bare_name": bare.__name__}


def before_start(seconds):
    return spin(seconds)


def between(seconds):
    return spin(seconds)


def after_stop(seconds):
    return spin(seconds)


def startstop(out):
    p = spyglass.Profiler(rate=1000, threads="main")
    before_start(0.1)
    p.start()
    between(0.3)
    prof = p.stop()
    after_stop(0.1)
    assert prof is p.profile
    p.save(os.path.join(out, "startstop.pb.gz"))
    d = prof.to_dict()
    stacks = sorted(
        [[d["functions"][d["locations"][loc][0]][0] for loc in r["stack"]], r["flags"],
         r["values"][0]] for r in d["records"])
    p.write("collapsed", os.path.join(out, "startstop.collapsed"))
    p.write(None, os.path.join(out, "startstop.txt"))
    with open(os.path.join(out, "report.txt"), "w") as f:
        p.report(file=f, max_rows=5)
    return {"stacks": stacks}


def child_work(seconds):
    return spin(seconds)


def parent_work(seconds):
    return spin(seconds)


def pool_work(n):
    return spin(0.02) and n * 2


def fork(out):
    import multiprocessing

    statuses = []
    with spyglass.profile(rate=10000) as p:
        parent_work(0.1)
        for i in range(6):
            pid = os.fork()
            if pid == 0:
                child_work(0.05)
                if i % 2:
                    r = p.stop()  # in the child: nothing to stop, must not hang
                    os._exit(0 if r is None else 3)
                sys.exit(0)  # leaves the with block, runs atexit in the child
            statuses.append(os.waitpid(pid, 0)[1])
            parent_work(0.02)
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(2) as pool:
            squares = pool.map(pool_work, range(8))
        parent_work(0.1)
    p.save(os.path.join(out, "fork.pb.gz"))
    return {"statuses": statuses, "pool": squares}


def before_window(seconds):
    return spin(seconds)


def in_window_one(seconds):
    return spin(seconds)


def between_windows(seconds):
    return spin(seconds)


def in_window_two(seconds):
    return spin(seconds)


def open_at_exit(seconds):
    return spin(seconds)


def toggle(out):
    sig = signal.SIGUSR2
    t = spyglass.toggle_on_signal(sig, path=os.path.join(out, "win-{pid}-{n}.pb.gz"),
                                  quiet=True)
    before_window(0.2)
    os.kill(os.getpid(), sig)
    assert t.wait(active=True, timeout=30)
    in_window_one(0.3)
    os.kill(os.getpid(), sig)
    assert t.wait(active=False, windows=1, timeout=30)
    between_windows(0.2)
    os.kill(os.getpid(), sig)
    assert t.wait(active=True, timeout=30)
    in_window_two(0.3)
    os.kill(os.getpid(), sig)
    assert t.wait(active=False, windows=2, timeout=30)
    os.kill(os.getpid(), sig)  # a third window, still open at exit: written then
    assert t.wait(active=True, timeout=30)
    open_at_exit(0.2)
    return {"written": list(t.written), "errors": t.errors, "helper_tid": t._tid,
            "pid": os.getpid()}


def reader(out):
    with spyglass.profile(rate=1000) as p:
        hot_main(0.3)
    p.save(os.path.join(out, "reader.pb.gz"))
    return {"reader": p.profile.to_dict()["attrs"].get("reader")}


def at_exit(out):
    """Never stopped: the Profiler is written at exit; the raw sampler thread is still
    sampling while the interpreter finalizes."""
    from spyglass import _core

    spyglass.Profiler(rate=5000, output=os.path.join(out, "exit.pb.gz")).start()
    hot_main(0.2)
    raw = _core.Sampler(os.getpid(), rate=10000)
    raw.start()
    globals()["keep"] = raw
    return {}


def _seccomp_deny(*syscalls):
    """Makes the listed x86-64 system calls fail with EPERM in this process, the way a
    container's seccomp profile does."""
    import ctypes

    class SockFilter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte),
                    ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]

    ld_nr, jeq, ret = 0x20, 0x15, 0x06
    allow, errno_eperm = 0x7FFF0000, 0x00050000 | 1
    prog = [SockFilter(ld_nr, 0, 0, 0)]
    for nr in syscalls:
        prog += [SockFilter(jeq, 0, 1, nr), SockFilter(ret, 0, 0, errno_eperm)]
    prog.append(SockFilter(ret, 0, 0, allow))
    arr = (SockFilter * len(prog))(*prog)
    fprog = SockFprog(len(prog), arr)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
    if libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:  # PR_SET_SECCOMP, FILTER
        raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP")


PROCESS_VM_READV, PREAD64 = 310, 17


def seccomp(out):
    _seccomp_deny(PROCESS_VM_READV)
    return reader(out)


def seccomp_all(out):
    _seccomp_deny(PROCESS_VM_READV, PREAD64)
    try:
        with spyglass.profile(rate=1000):
            hot_main(0.05)
    except spyglass.Error as exc:
        return {"code": exc.args[0], "message": exc.args[1]}
    return {"code": None}


if __name__ == "__main__":
    scenario, out_dir = sys.argv[1], sys.argv[2]
    result = globals()[scenario](out_dir)
    sys.stdout.flush()
    print(json.dumps(result))
