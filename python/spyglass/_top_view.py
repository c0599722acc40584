"""What `spyglass top` shows, as plain lines of text: the live screen laid out for a
given terminal size, and the plain table printed when stdout is not a terminal.

Everything that grows with the profile (aggregation, sorting, cutting to N rows,
escaping the target's names) is done in C by Profile.top_rows / thread_states; this
module only places the few rows that fit."""

import os
import time

from . import _core

SORTS = ("self", "total", "name")
SORT_LABELS = {"self": "own", "total": "total", "name": "name"}
PLAIN_ROWS = 15
PLAIN_NAME_MAX = 48  # a longer name pushes its row's file:line to the right
MIN_WIDTH, MIN_HEIGHT = 30, 4
CWD = os.getcwd()


class Collector:
    """Takes the sampler's profile every interval; keeps the last `nparts` parts (the
    recent window) and the sum of all of them (the whole run, for -o)."""

    def __init__(self, sampler, interval, window):
        self.sampler = sampler
        self.interval = interval
        self.nparts = max(1, int(round(window / interval)))
        self.parts = []
        self.whole = _core.Profile()
        self.window = _core.Profile()
        self.started = time.monotonic()
        self.no_gil = False  # a free-threaded target running without a GIL

    def collect(self, part=None):
        """Adds the sampler's profile since the last call (or `part`, the last one)."""
        if part is None:
            part = self.sampler.take()
        self.no_gil = self.no_gil or part.get_attr("gil") == "none"
        self.whole.append(part)
        self.parts = (self.parts + [part])[-self.nparts:]
        window = _core.Profile()
        for p in self.parts:
            window.append(p)
        self.window = window

    def snapshot(self, info):
        return Snapshot(self.window, time.monotonic() - self.started, dict(info, no_gil=self.no_gil))


class Snapshot:
    """The window at one moment, with what the header shows about it."""

    def __init__(self, window, elapsed, info):
        self.window = window
        self.elapsed = elapsed
        self.info = dict(info)
        meta = window.meta()
        self.rate = meta["rate_hz"]
        seconds = meta["duration_ns"] / 1e9
        self.seconds = seconds
        self.ticks_per_s = meta["ticks_taken"] / seconds if seconds > 0 else 0.0
        ok, bad = window.sample_counts()
        self.error_pct = 100.0 * bad / (ok + bad) if ok + bad else 0.0
        self.threads = window.thread_states()

    def rows(self, state, limit):
        pid, tid = state.thread[:2] if state.thread else (0, None)
        return self.window.top_rows(kind=state.kind, tid=tid, pid=pid, sort=state.sort,
                                    limit=limit)


class ViewState:
    """What the keys change."""

    def __init__(self):
        self.kind = "functions"
        self.sort = "self"
        self.thread = None  # (pid, tid, name) or None for all threads
        self.paused = False

    def cycle_sort(self):
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]

    def toggle_kind(self):
        self.kind = "lines" if self.kind == "functions" else "functions"

    def cycle_thread(self, threads):
        """all -> each thread of the window in turn -> all."""
        choices = [None] + [(t[0], t[1], t[2]) for t in threads]
        keys = [c[:2] if c else None for c in choices]
        cur = self.thread[:2] if self.thread else None
        i = keys.index(cur) if cur in keys else 0
        self.thread = choices[(i + 1) % len(choices)]

    def thread_label(self):
        if not self.thread:
            return "all threads"
        return f"thread {self.thread[2] or '?'} ({self.thread[1]})"


def _cut(s, width, ell):
    if width <= 0:
        return ""
    return s if len(s) <= width else s[: max(0, width - len(ell))] + ell[:width]


def _cut_start(s, width, ell):
    """Cuts the start, keeping a path's file name and line."""
    if width <= 0:
        return ""
    return s if len(s) <= width else ell[:width] + s[len(s) - max(0, width - len(ell)):]


def _pct(part, whole):
    return 100.0 * part / whole if whole else 0.0


def _short_path(path):
    """A path under the current directory, relative to it (the screen is narrow)."""
    if path.startswith(CWD + os.sep):
        return path[len(CWD) + 1:]
    return path


def _place(file, line):
    return f"{file}:{line}" if line > 0 else file


def _uptime(seconds):
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


def _printable(s):
    """The command line comes from the target too: no control character may reach the
    terminal (names in rows are escaped in C)."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256
                   else f"\\u{ord(c):04x}" for c in s)


def _title(snap):
    info = snap.info
    parts = ["spyglass top", f"PID {info['pid']}"]
    if info.get("python"):
        parts.append(f"Python {info['python']}")
    if info.get("command"):
        parts.append(_printable(info["command"]))
    return "  ".join(parts)


def _stats(snap, window_s):
    return (f"{snap.rate:g} Hz  {snap.ticks_per_s:.1f} samples/s  window {window_s:g}s  "
            f"errors {snap.error_pct:.2f}%  up {_uptime(snap.elapsed)}")


def _thread_lines(snap, state, width, limit, ell):
    multi = len({t[0] for t in snap.threads}) > 1
    head = f" {'THREAD':<16} {'PID:TID' if multi else 'TID':>13} {'SAMPLES':>8}" \
           f" {'RUN%':>6} {'IDLE%':>6} {'GIL%':>6} {'WAIT%':>6}"
    out = [head]
    sel = state.thread[:2] if state.thread else None
    shown = snap.threads[:limit]
    no_gil = snap.info.get("no_gil")  # free-threaded: the GIL columns do not apply
    for pid, tid, name, _main, samples, oncpu, gil, gilwait in shown:
        mark = ">" if sel == (pid, tid) else " "
        ident = f"{pid}:{tid}" if multi else str(tid)
        gil_cols = f" {'n/a':>6} {'n/a':>6}" if no_gil else \
            f" {_pct(gil, samples):6.1f} {_pct(gilwait, samples):6.1f}"
        out.append(f"{mark}{_cut(name, 16, ell):<16} {ident:>13} {samples:>8}"
                   f" {_pct(oncpu, samples):6.1f} {_pct(samples - oncpu, samples):6.1f}"
                   + gil_cols)
    if len(snap.threads) > len(shown):
        out[-1] = f"  ... and {len(snap.threads) - len(shown) + 1} more threads"
    return [_cut(line, width, ell) for line in out]


def _table(snap, state, width, nrows, ell):
    """The column header and up to nrows rows."""
    grand, rows = snap.rows(state, nrows) if nrows > 0 else (0, [])
    places = [_place(_short_path(f), line) for _n, f, line, _s, _t in rows]
    # " 12.3%   45.6%  " is 17 columns; the name and the place share the rest, the
    # place (cut at its start) keeping at least about half when both are long
    rest = width - 17 - 2
    need_n = max([len(r[0]) for r in rows] + [8])
    need_p = max([len(p) for p in places] + [9])
    nw = min(need_n, max(8, rest * 45 // 100))
    pw = rest - nw
    if need_p < pw:
        nw = min(need_n, rest - need_p)
        pw = rest - nw
    where = "FILE:LINE" if state.kind == "functions" else "LINE"
    out = [_cut(f"  {'OWN%':>5}  {'TOTAL%':>6}  {'FUNCTION':<{nw}}  {where}", width, ell)]
    for (name, _f, _l, own, total), place in zip(rows, places):
        out.append(_cut(f" {_pct(own, grand):5.1f}%  {_pct(total, grand):5.1f}%  "
                        f"{_cut(name, nw, ell):<{nw}}  {_cut_start(place, pw, ell)}", width, ell))
    if not rows:
        out.append(_cut("  (no samples in the window yet)" if not state.thread else
                        "  (no samples of this thread in the window)", width, ell))
    return out


def _footer(state, width, ell):
    keys = (f"q quit  s sort:{SORT_LABELS[state.sort]}  l view:{state.kind}  "
            f"t thread:{state.thread[1] if state.thread else 'all'}  p pause")
    if state.paused:
        keys = "PAUSED (sampling goes on; p resumes)  " + keys.replace("  p pause", "")
    return _cut(keys, width, ell)


def screen_lines(snap, state, width, height, window_s, ell="…"):
    """The screen for a terminal of width x height: at most height lines, none longer
    than width. Sections are dropped as the terminal shrinks; below the minimum it is
    one line that says so."""
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        msg = f"terminal too small ({width}x{height})"
        return [_cut(msg if len(msg) <= width else "terminal too small", width, ell)][:height]
    top = [_cut(_title(snap), width, ell)]
    if height >= 10:
        top.append(_cut(_stats(snap, window_s), width, ell))
    if height >= 14 and snap.threads:
        nthreads = max(1, min(len(snap.threads), (height - 12) // 3))
        top.append("")
        top += _thread_lines(snap, state, width, nthreads, ell)
    if height >= 12:
        top.append("")
        top.append(_cut(f"{state.kind}, {state.thread_label()}, sorted by "
                        f"{SORT_LABELS[state.sort]}" + (", PAUSED" if state.paused else ""),
                        width, ell))
    nrows = height - len(top) - 2
    lines = top + _table(snap, state, width, nrows, ell)
    lines = lines[: height - 1]
    lines += [""] * (height - 1 - len(lines))
    return lines + [_footer(state, width, ell)]


def plain_report(snap, state, window_s):
    """The table printed every interval when stdout is not a terminal (no escape
    sequences, no cutting)."""
    out = [f"--- {_title(snap)}",
           f"{snap.rate:g} Hz, {snap.ticks_per_s:.1f} samples/s, window {window_s:g}s, "
           f"errors {snap.error_pct:.2f}%, up {snap.elapsed:.1f}s; {state.kind}"]
    if snap.threads:
        out += _thread_lines(snap, state, 10**6, len(snap.threads), "...")
    grand, rows = snap.rows(state, PLAIN_ROWS)
    where = "FILE:LINE" if state.kind == "functions" else "LINE"
    nw = min(PLAIN_NAME_MAX, max([len(r[0]) for r in rows] + [8]))
    out.append(f"  {'OWN%':>5}  {'TOTAL%':>6}  {'FUNCTION':<{nw}}  {where}")
    for name, file, line, own, total in rows:
        out.append(f" {_pct(own, grand):5.1f}%  {_pct(total, grand):5.1f}%  {name:<{nw}}  "
                   f"{_place(file, line)}")
    if not rows:
        out.append("  (no samples in the window yet)")
    return "\n".join(out) + "\n\n"
