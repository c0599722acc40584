"""`spyglass run`: start the program as a child, sample it from this process, and write
the profile when it ends — normally, by an exception, by a signal, or on Ctrl-C."""

import os
import signal
import subprocess
import sys
import threading
import time

from . import _core

BOOTSTRAP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bootstrap.py")
GRACE_SECONDS = 2.0


class RunError(Exception):
    """A problem to report in one line; the exit status to use is .status."""

    def __init__(self, message, status=2):
        super().__init__(message)
        self.status = status


def _start_bootstrapped(kind, target, args, stdio):
    """Starts `python _bootstrap.py` and waits until its interpreter is up. Returns the
    Popen and the fd on which writing b"G" lets the program start."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    cmd = [sys.executable, BOOTSTRAP, str(ready_w), str(go_r), kind, target] + list(args)
    try:
        child = subprocess.Popen(cmd, pass_fds=(ready_w, go_r), **stdio)
    finally:
        os.close(ready_w)
        os.close(go_r)
    ready = os.read(ready_r, 1)
    os.close(ready_r)
    if ready != b"R":
        os.close(go_w)
        status = child.wait()
        raise RunError("the Python interpreter failed to start", status or 1)
    return child, go_w


def _start_command(command, stdio):
    try:
        return subprocess.Popen(command, **stdio)
    except FileNotFoundError:
        raise RunError(f"command not found: {command[0]}", 127) from None
    except PermissionError:
        raise RunError(f"cannot execute {command[0]}: permission denied", 126) from None


class _SamplerThread(threading.Thread):
    def __init__(self, sampler):
        super().__init__(name="spyglass-sampler", daemon=True)
        self.sampler = sampler
        self.error = None

    def run(self):
        try:
            self.sampler.run()
        except _core.Error as exc:
            self.error = exc


# Linux's __WNOTHREAD: wait only for the children of the calling thread. With --blocking
# another thread of this process traces the program, and a tracee's ptrace stops are
# reported to every thread of the tracer's process that waits for it: Popen.wait() and
# poll() would take a stop for the program's end (status -SIGTRAP), and take it from the
# tracer, which would then never let the program go.
_WNOTHREAD = 0x20000000


def wait_exit(child, timeout=None):
    """The program's exit status, as Popen.wait(timeout) gives it, but seeing nothing but
    its end (see _WNOTHREAD). timeout=0 polls (None when it is still running).

    It polls (every 10 ms) rather than blocks: when the tracing thread of this process
    lets go of a program that has ended, the kernel does not wake a thread of the same
    process already waiting for it, though the program can then be collected."""
    if child.returncode is not None:
        return child.returncode
    deadline = None if timeout is None else time.monotonic() + timeout
    ends = (os.CLD_EXITED, os.CLD_KILLED, os.CLD_DUMPED)
    while True:
        try:
            # a peek: a ptrace stop of the program is shown to this thread too, and must be
            # left for the tracing thread to collect
            info = os.waitid(os.P_PID, child.pid,
                             os.WEXITED | os.WNOHANG | os.WNOWAIT | _WNOTHREAD)
            if info is not None and info.si_pid == child.pid and info.si_code in ends:
                os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | _WNOTHREAD)
                child.returncode = (info.si_status if info.si_code == os.CLD_EXITED
                                    else -info.si_status)
                return child.returncode
        except ChildProcessError:  # collected elsewhere; what Popen would say
            child.returncode = 0
            return 0
        if deadline is not None and time.monotonic() >= deadline:
            if timeout == 0:
                return None
            raise subprocess.TimeoutExpired(child.args, timeout)
        time.sleep(0.01)


def send(child, sig):
    """Popen.send_signal without its poll(), which could take a ptrace stop (see
    _WNOTHREAD) for the program's end."""
    if child.returncode is None:
        try:
            os.kill(child.pid, sig)
        except ProcessLookupError:
            pass


def _wait_child(child):
    """Waits for the child, surviving Ctrl-C: a terminal's Ctrl-C reaches the child too,
    so we first give it time to end by itself, then ask it (SIGINT, SIGTERM) and
    finally kill it. Returns (returncode, interrupted)."""
    interrupted = False
    escalation = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
    while True:
        try:
            return wait_exit(child), interrupted
        except KeyboardInterrupt:
            interrupted = True
            try:
                return wait_exit(child, timeout=GRACE_SECONDS), interrupted
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                pass
            send(child, escalation.pop(0) if escalation else signal.SIGKILL)


def _forward_signals(child):
    def forward(signum, _frame):
        send(child, signum)

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, forward)


def describe_status(code):
    """(exit status for spyglass, a sentence about how the program ended or None)."""
    if code >= 0:
        return code, None
    signum = -code
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    return 128 + signum, f"the program was killed by {name} ({signum})"


def stop_child(child, grace=GRACE_SECONDS):
    """Asks the child to end (SIGINT, then SIGTERM) and kills it if it will not.
    Returns its return code."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if wait_exit(child, timeout=0) is not None:
            break
        send(child, sig)
        try:
            return wait_exit(child, timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    return wait_exit(child)


# Why a program ran unprofiled that spyglass reports with a non-zero status even when
# the program succeeded: a Python it found but refuses to read. A command that never runs
# Python (SG_E_NOT_PYTHON) keeps the program's own status.
REFUSALS = ("SG_E_UNSUPPORTED", "SG_E_PERMISSION", "SG_E_INVALID")
REFUSED_STATUS = 3


def tell_layout(sampler, warn):
    """Says it when the target is read through its own _Py_DebugOffsets (a build laid
    out unlike our table, or a Python newer than spyglass). Call once per sampler."""
    note = sampler.layout_note
    if note:
        warn(note)


class Launched:
    """A program started by spyglass and the sampler thread reading it (sampler and
    thread are None when it cannot be profiled)."""

    def __init__(self, child, sampler, thread, told=False):
        self.child = child
        self.sampler = sampler
        self.thread = thread
        self.told = told  # the layout note was said
        self.refused = False  # a Python was found that spyglass cannot read

    def sampling(self):
        """True while the sampler thread runs (it ends with the program, or earlier if
        the program turned out not to be readable)."""
        return self.thread is not None and self.thread.is_alive()

    def stop_sampling(self, warn):
        """Stops the sampler and returns the profile it holds (None if there is none).
        Call once."""
        thread, self.thread = self.thread, None
        if thread is None:
            return None
        self.sampler.stop()
        thread.join()
        if thread.error is not None:
            warn(f"the program could not be profiled: {thread.error.args[1]}")
            self.refused = thread.error.args[0] in REFUSALS
            return None
        if not self.told:
            tell_layout(self.sampler, warn)
            self.told = True
        profile = self.sampler.profile()
        if self.sampler.python_version:
            profile.set_attr("python", self.sampler.python_version)
        return profile


def launch(kind, target, args, rate, clock, warn, stdio=None, subprocesses=False,
           timeline=False, max_threads=0, blocking=False):
    """Starts the program (kind "script", "module" or "command") with a sampler running
    in a thread from its first line on. stdio: Popen's stdin/stdout/stderr arguments.
    Raises RunError when the program cannot be started."""
    stdio = dict(stdio or {})
    if kind == "command":
        child = _start_command([target] + list(args), stdio)
        go_w = None
        sampler_args = dict(wait_for_python=True)
    else:
        child, go_w = _start_bootstrapped(kind, target, args, stdio)
        sampler_args = dict(root_skip_file=BOOTSTRAP)

    sampler = None
    told = refused = False
    try:
        sampler = _core.Sampler(child.pid, rate=rate, clock=clock, subprocesses=subprocesses,
                                timeline=timeline, max_threads=max_threads,
                                blocking=blocking, **sampler_args)
        if go_w is not None:
            sampler.prepare()
            tell_layout(sampler, warn)
            told = True
    except _core.Error as exc:
        warn(f"cannot profile the program: {exc.args[1]}")
        sampler = None
        refused = exc.args[0] in REFUSALS
    finally:
        if go_w is not None:
            try:
                os.write(go_w, b"G")
            except BrokenPipeError:
                pass
            os.close(go_w)

    thread = None
    if sampler is not None:
        thread = _SamplerThread(sampler)
        thread.start()
    launched = Launched(child, sampler, thread, told)
    launched.refused = refused
    return launched


def conclude(profile, code, interrupted, warn):
    """Says how the program ended and returns spyglass's exit status."""
    status, how = describe_status(code)
    if how:
        warn(how + ("; the samples taken so far are reported" if profile else ""))
    elif interrupted:
        warn("interrupted; the samples taken so far are reported")
    if profile is not None:
        profile.set_attr("exit_status", str(code))
    return status


def run(kind, target, args, rate, clock, warn, subprocesses=False, timeline=False,
        max_threads=0, blocking=False):
    """Runs and samples. kind is "script", "module" or "command". Returns
    (profile or None, exit status). warn(msg) prints a one-line notice. timeline keeps
    every sample's time (memory grows with run length)."""
    launched = launch(kind, target, args, rate, clock, warn, subprocesses=subprocesses,
                      timeline=timeline, max_threads=max_threads, blocking=blocking)
    _forward_signals(launched.child)
    code, interrupted = _wait_child(launched.child)
    profile = launched.stop_sampling(warn)
    status = conclude(profile, code, interrupted, warn)
    if launched.refused and status == 0:
        status = REFUSED_STATUS
    return profile, status
