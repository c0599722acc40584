"""`spyglass top`: a live view of where a program spends its time, refreshed every
interval: the hottest functions (or lines) over a recent window, samples per second,
each thread's states and the sampler's error rate.

The sampler runs in its own thread (GIL released) for the whole session; every
interval the view takes the profile of the last interval from it (Sampler.take) and
sums the recent ones into the window, so sampling never pauses for the display. On a
terminal the view is drawn with curses; otherwise a plain table is printed every
interval."""

import argparse
import locale
import os
import signal
import sys
import tempfile
import time

from . import _core, _output, _run, _top_view, cli

DEFAULT_RATE = 100
DEFAULT_INTERVAL = 1.0
DEFAULT_WINDOW = 10.0
USAGE = ("spyglass top [options] PID\n"
         "       spyglass top [options] script.py [args...] | -m module [args...] | "
         "-- command [args...]")
KEYS_HELP = ("keys: q quit; s sort by own time, total time or name; l functions or lines; "
             "t all threads or one (cycles); p pause: the display freezes on the current "
             "window while sampling goes on (s, l and t still work on it), p again resumes")


class _Quit(Exception):
    """SIGTERM or SIGHUP while top samples a process it did not start."""


def _parser():
    p = cli._Parser(
        prog="spyglass top", usage=USAGE,
        description="A live view of a running Python program: its hottest functions or "
                    "lines over a recent window, refreshed every interval, with each "
                    "thread's state. Given a script, module or command, top runs it (as "
                    "'spyglass run' does) and exits with its status when it ends. When "
                    "stdout is not a terminal, a plain table is printed every interval.",
        epilog=KEYS_HELP)
    p._sg_cmd = "top"
    p.add_argument("--rate", type=float, default=DEFAULT_RATE, metavar="HZ",
                   help=f"samples per second (default {DEFAULT_RATE})")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall: every thread at every tick, with its state (default); "
                        "cpu: only threads running on a CPU")
    p.add_argument("--interval", type=float, default=DEFAULT_INTERVAL, metavar="SECONDS",
                   help=f"refresh every SECONDS (default {DEFAULT_INTERVAL:g})")
    p.add_argument("--window", type=float, default=DEFAULT_WINDOW, metavar="SECONDS",
                   help=f"the shares are over the last SECONDS (default {DEFAULT_WINDOW:g})")
    cli._add_sampler_options(p)
    p.add_argument("-o", "--output", metavar="FILE",
                   help="on exit, write the whole run's profile to FILE; the suffix decides "
                        "the format (.pb.gz/.spyglass = the profile itself, .txt = text, "
                        ".collapsed = collapsed stacks)")
    return p


class _Session:
    """What top samples: a program it started (launched) or a running process (pid)."""

    def __init__(self, launched, pid, command):
        self.launched = launched
        self.pid = pid
        self.command = command

    @property
    def started_here(self):
        return self.launched.child is not None

    def ended(self):
        if self.started_here:
            return _run.wait_exit(self.launched.child, timeout=0) is not None
        return not self.launched.sampling()


def _start_sampler(pid, rate, clock, warn, subprocesses=False, max_threads=0, blocking=False):
    try:
        sampler = _core.Sampler(pid, rate=rate, clock=clock, subprocesses=subprocesses,
                                max_threads=max_threads, blocking=blocking)
        sampler.prepare()
        _run.tell_layout(sampler, warn)
    except _core.Error as exc:
        if exc.args[0] == "SG_E_NO_PROCESS":
            raise _run.RunError(f"no process with PID {pid}") from None
        raise _run.RunError(f"cannot profile process {pid}: {exc.args[1]}") from None
    thread = _run._SamplerThread(sampler)
    thread.start()
    return _run.Launched(None, sampler, thread, told=True)


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read(4096)
    except OSError:
        return ""
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")


def _check_target(kind, target, opts):
    if target is None:
        return "nothing to show: give a PID, a script, -m module or -- command"
    if not (0 < opts.rate <= 1_000_000):
        return "--rate must be between 1 and 1000000 samples per second"
    if not (0.05 <= opts.interval <= 3600):
        return "--interval must be between 0.05 and 3600 seconds"
    if not (0 < opts.window <= 86400):
        return "--window must be between 0 and 86400 seconds"
    if kind == "script" and not os.path.exists(target):
        return f"cannot open script '{target}': no such file"
    if kind == "script" and os.path.isdir(target) and not os.path.exists(
            os.path.join(target, "__main__.py")):
        return f"cannot run '{target}': a directory without __main__.py"
    if opts.output and opts.output != "-":
        parent = os.path.dirname(os.path.abspath(opts.output))
        if not os.path.isdir(parent):
            return f"cannot write '{opts.output}': directory {parent} does not exist"
    return None


def _is_pid(kind, target, args):
    return kind == "script" and target.isdigit() and not args and not os.path.exists(target)


def _terminal_ok():
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        return False
    return os.environ.get("TERM", "dumb") not in ("", "dumb")


def main(argv):
    ours, kind, target, args = cli._split_run_argv(
        argv, extra_value_opts=("--interval", "--window"))
    opts = _parser().parse_args(ours)
    pid_mode = target is not None and _is_pid(kind, target, args)
    problem = _check_target(None if pid_mode else kind, target, opts)
    if problem:
        return cli._fail(problem)
    interactive = _terminal_ok()
    notes = []  # warnings shown after the screen is restored
    warn = notes.append if interactive else cli._warn

    if pid_mode:
        pid = int(target)
        if pid <= 0:
            return cli._fail(f"no process with PID {target}")
        launched = _start_sampler(pid, opts.rate, opts.clock, warn, opts.subprocesses,
                                  opts.max_threads, opts.blocking)
        session = _Session(launched, pid, _cmdline(pid))
        outputs = None
    else:
        outputs = _ProgramOutput() if interactive else None
        stdio = outputs.stdio() if outputs else None
        launched = _run.launch(kind, target, args, opts.rate, opts.clock, warn, stdio=stdio,
                               subprocesses=opts.subprocesses, max_threads=opts.max_threads,
                               blocking=opts.blocking)
        command = " ".join(([target] if kind != "module" else ["-m", target]) + list(args))
        session = _Session(launched, launched.child.pid, command)
    if launched.sampler is None:  # started, but it cannot be profiled: just wait for it
        for n in notes:
            cli._warn(n)
        code, interrupted = _run._wait_child(launched.child)
        if outputs:
            outputs.replay()
        status = _run.conclude(None, code, interrupted, cli._warn)
        return _run.REFUSED_STATUS if launched.refused and status == 0 else status
    return _Top(session, opts, interactive, notes, outputs).run()


class _ProgramOutput:
    """While curses owns the terminal, the program's output goes to temporary files and
    is shown once the screen is restored; its stdin is /dev/null (top reads the keys)."""

    def __init__(self):
        self.out = tempfile.TemporaryFile()
        self.err = tempfile.TemporaryFile()

    def stdio(self):
        import subprocess
        return {"stdin": subprocess.DEVNULL, "stdout": self.out, "stderr": self.err}

    def replay(self):
        for f, stream in ((self.out, sys.stdout), (self.err, sys.stderr)):
            f.seek(0)
            stream.flush()
            while True:
                chunk = f.read(1 << 16)
                if not chunk:
                    break
                stream.buffer.write(chunk)
            stream.buffer.flush()
            f.close()


class _Top:
    def __init__(self, session, opts, interactive, notes, outputs):
        self.session = session
        self.opts = opts
        self.interactive = interactive
        self.notes = notes
        self.outputs = outputs
        self.state = _top_view.ViewState()
        self.collector = _top_view.Collector(session.launched.sampler, opts.interval,
                                             opts.window)
        self.window_s = self.collector.nparts * opts.interval
        self.quit = None  # why the user ended the session early, if they did
        self.interrupted = False

    def info(self):
        return {"pid": self.session.pid, "command": self.session.command,
                "python": self.session.launched.sampler.python_version}

    def snapshot(self):
        return self.collector.snapshot(self.info())

    def run(self):
        s = self.session
        if s.started_here:
            _run._forward_signals(s.launched.child)
        else:
            def on_signal(signum, frame):
                raise _Quit()
            for sig in (signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, on_signal)
        try:
            if self.interactive:
                self._run_curses()
            else:
                self._run_plain()
        except KeyboardInterrupt:
            self.interrupted = True
        except _Quit:
            self.quit = "signal"
        except BrokenPipeError:  # `spyglass top ... | head`: the reader has gone
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            self.quit = "the output was closed"
        return self._finish()

    # -- plain tables, when stdout is not a terminal --

    def _run_plain(self):
        next_tick = time.monotonic() + self.opts.interval
        while not self.session.ended():
            now = time.monotonic()
            if now < next_tick:
                time.sleep(min(0.05, next_tick - now))
                continue
            next_tick = max(next_tick + self.opts.interval, now + self.opts.interval / 2)
            self.collector.collect()
            self._print_plain(self.snapshot())

    def _print_plain(self, snap):
        sys.stdout.write(_top_view.plain_report(snap, self.state, self.window_s))
        sys.stdout.flush()

    # -- the live screen --

    def _run_curses(self):
        import curses
        locale.setlocale(locale.LC_ALL, "")
        try:
            curses.wrapper(self._curses_main)
        except curses.error as exc:
            self.notes.append(f"the terminal could not be used ({exc}); "
                              "printing tables instead")
            self.interactive = False
            self._run_plain()

    def _curses_main(self, scr):
        import curses
        try:
            curses.curs_set(0)
        except curses.error:
            pass
        scr.timeout(50)
        enc = locale.getpreferredencoding(False) or "ascii"
        ell = "…" if enc.lower().replace("-", "") == "utf8" else "~"
        snap = self.snapshot()
        next_tick = time.monotonic() + self.opts.interval
        dirty = True
        while True:
            if dirty:
                self._draw(scr, snap, enc, ell)
                dirty = False
            ch = scr.getch()
            if ch in (ord("q"), ord("Q")):
                self.quit = "q"
                return
            if ch == curses.KEY_RESIZE:
                curses.update_lines_cols()
                dirty = True
            elif ch in (ord("s"), ord("S")):
                self.state.cycle_sort()
                dirty = True
            elif ch in (ord("l"), ord("L")):
                self.state.toggle_kind()
                dirty = True
            elif ch in (ord("t"), ord("T")):
                self.state.cycle_thread(snap.threads)
                dirty = True
            elif ch in (ord("p"), ord("P")):
                self.state.paused = not self.state.paused
                if not self.state.paused:
                    snap = self.snapshot()
                dirty = True
            if self.session.ended():
                return
            now = time.monotonic()
            if now >= next_tick:
                next_tick = max(next_tick + self.opts.interval, now + self.opts.interval / 2)
                self.collector.collect()
                if not self.state.paused:
                    snap = self.snapshot()
                    dirty = True

    def _draw(self, scr, snap, enc, ell):
        import curses
        height, width = scr.getmaxyx()
        lines = _top_view.screen_lines(snap, self.state, width, height, self.window_s, ell)
        scr.erase()
        for y, line in enumerate(lines[:height]):
            line = line.encode(enc, "replace").decode(enc, "replace")
            try:
                scr.addnstr(y, 0, line, width, curses.A_REVERSE if y == height - 1 else 0)
            except curses.error:
                pass  # the bottom-right cell cannot be written without scrolling
        scr.refresh()

    # -- the end --

    def _finish(self):
        s = self.session
        status = 0
        code = None
        if s.started_here:
            child = s.launched.child
            if self.quit:
                self.notes.insert(0, f"{self.quit}: the program was stopped (SIGINT)")
                _run.stop_child(child)
            elif self.interrupted:
                code, _ = _run._wait_child(child)
            else:
                code = _run.wait_exit(child)
        last = s.launched.stop_sampling(self.notes.append)
        if last is not None:
            self.collector.collect(last)
        if self.outputs:
            self.outputs.replay()
        for note in self.notes:
            cli._warn(note)
        if not self.interactive and last is not None and not self.quit:
            self._print_plain(self.snapshot())
        whole = self.collector.whole
        if code is not None:
            status = _run.conclude(whole, code, self.interrupted, cli._warn)
        if self.opts.output and not self._write(whole):
            status = status or 1
        if not s.started_here and not self.quit and not self.interrupted:
            cli._warn(f"process {s.pid} ended")
        return status

    def _write(self, whole):
        """Writes the whole run to -o FILE; False if that failed."""
        ok, bad = whole.sample_counts()
        if ok == 0:
            cli._warn(f"no samples were taken; {self.opts.output} not written")
            return True
        if self.session.command:
            whole.set_attr("command", self.session.command)
        if self.session.launched.sampler.python_version:
            whole.set_attr("python", self.session.launched.sampler.python_version)
        fmt = _output.choose_format(None, self.opts.output)
        plain = argparse.Namespace(threads="all", exclude_syspath=False, include=None,
                                   exclude=None, per_thread=False)
        try:
            _output.emit(whole, fmt, self.opts.output, plain)
        except _core.Error as exc:
            cli._fail(exc.args[1])
            return False
        if self.opts.output != "-":
            rate = 100.0 * bad / (ok + bad) if ok + bad else 0.0
            cli._warn(f"wrote {self.opts.output} ({fmt}; {ok} samples, {rate:.2f}% errors)")
        return True

