"""`spyglass top`: driven in a real terminal (a detached tmux pane: send keys, read the
screen back), as a plain table when stdout is not a terminal, on a running PID, and
with bad input. Intervals are short (0.3 s) so the file stays near 20 s per Python."""
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from conftest import Prof, spyglass, target

INTERVAL = "0.3"
HERE = os.path.dirname(os.path.abspath(__file__))


def _hot_line():
    with open(target("hotline.py")) as f:
        return next(i for i, line in enumerate(f, 1) if line.rstrip().endswith("# HOT"))


class Pane:
    """One `spyglass top` in a detached tmux pane of its own private tmux server. The
    shell records top's exit status and whether the terminal settings came back."""

    def __init__(self, tmp_path, args, width=80, height=24):
        if not shutil.which("tmux"):
            pytest.fail("tmux is needed for these tests (make deps installs it)")
        self.sock = f"sgtop-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.status = tmp_path / "status"
        self.tty = tmp_path / "tty"
        top = " ".join([sys.executable, "-m", "spyglass", "top"] + [f"'{a}'" for a in args])
        script = (f"before=$(stty -g); {top}; echo $? > {self.status}; "
                  f"[ \"$(stty -g)\" = \"$before\" ] && echo same > {self.tty} || "
                  f"echo changed > {self.tty}; sleep 120")
        env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8")
        env.pop("TMUX", None)
        subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null", "new-session", "-d",
                        "-x", str(width), "-y", str(height), "-s", "top", "-c", HERE,
                        "sh", "-c", script], check=True, env=env)
        subprocess.run(self._tmux("set-option", "-g", "window-size", "manual"), check=True)

    def _tmux(self, *args):
        return ["tmux", "-L", self.sock] + list(args)

    def text(self):
        return subprocess.run(self._tmux("capture-pane", "-p", "-J", "-t", "top"),
                              capture_output=True, text=True).stdout

    def keys(self, *keys):
        subprocess.run(self._tmux("send-keys", "-t", "top", *keys), check=True)

    def resize(self, width, height):
        subprocess.run(self._tmux("resize-window", "-t", "top", "-x", str(width), "-y",
                                  str(height)), check=True)

    def alternate_screen(self):
        out = subprocess.run(self._tmux("display-message", "-p", "-t", "top",
                                        "#{alternate_on}"), capture_output=True, text=True)
        return out.stdout.strip() == "1"

    def wait(self, pred, what, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if pred(text):
                return text
            if self.status.exists() or time.monotonic() > deadline:
                pytest.fail(f"the screen never showed {what}; last screen:\n{text}")
            time.sleep(0.1)

    def exit_status(self, timeout=30):
        deadline = time.monotonic() + timeout
        while not (self.status.exists() and self.status.read_text().strip()):
            if time.monotonic() > deadline:
                pytest.fail(f"top did not exit; last screen:\n{self.text()}")
            time.sleep(0.1)
        time.sleep(0.2)
        return int(self.status.read_text())

    def close(self):
        subprocess.run(self._tmux("kill-server"), capture_output=True)


@pytest.fixture
def pane(tmp_path):
    panes = []

    def start(*args, **kw):
        p = Pane(tmp_path, args, **kw)
        panes.append(p)
        return p

    yield start
    for p in panes:
        p.close()


def rows(text):
    """The table rows under the OWN% header: (own, total, function, place)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if "OWN%" in line), None)
    out = []
    for line in lines[start + 1:] if start is not None else []:
        parts = line.split()
        if len(parts) < 4 or not parts[0].endswith("%"):
            break
        out.append((parts[0], parts[1], parts[2], parts[-1]))
    return out


def top_function(text):
    r = rows(text)
    return r[0][2] if r else None


def test_live_view_keys_resize_and_quit(pane):
    p = pane("--interval", INTERVAL, "--rate", "200", target("hotline.py"), "120")
    p.wait(lambda t: top_function(t) == "work", "work as the hottest function")
    text = p.text()
    assert "functions, all threads, sorted by own" in text
    assert "MainThread" in text and "samples/s" in text and "errors" in text
    lines = text.splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)

    p.keys("l")  # lines: the HOT line leads
    hot = f"hotline.py:{_hot_line()}"
    p.wait(lambda t: "lines, all threads" in t and rows(t) and rows(t)[0][3].endswith(hot),
           f"{hot} as the hottest line")

    for order in ("total", "name", "own"):
        p.keys("s")
        p.wait(lambda t: f"sorted by {order}" in t, f"the sort header 'sorted by {order}'")
    text = p.text()
    assert rows(text)[0][3].endswith(hot)

    p.keys("t")  # the only thread, then back to all
    text = p.wait(lambda t: "thread MainThread (" in t, "the main thread selected")
    assert ">MainThread" in text
    p.keys("t")
    p.wait(lambda t: "lines, all threads" in t, "all threads again")

    p.keys("p")  # paused: the display stops changing while sampling goes on
    text = p.wait(lambda t: "PAUSED" in t, "PAUSED")
    time.sleep(3 * float(INTERVAL))
    assert p.text() == text
    p.keys("p")
    p.wait(lambda t: "PAUSED" not in t and t != text, "the display moving again")

    p.resize(40, 10)
    text = p.wait(lambda t: "OWN%" in t and len(t.splitlines()) <= 10 and
                  all(len(line) <= 40 for line in t.splitlines()), "a 40x10 screen")
    p.resize(20, 3)
    p.wait(lambda t: "terminal too small" in t, "'terminal too small'")
    p.resize(80, 24)
    p.keys("l")
    p.wait(lambda t: "functions, all threads" in t and top_function(t) == "work",
           "the full screen again")

    p.keys("q")
    assert p.exit_status() == 0
    assert not p.alternate_screen()
    assert p.tty.read_text().strip() == "same"  # cbreak/noecho undone
    assert "OWN%" not in p.text()


def test_program_end_gives_its_status_output_and_profile(pane, tmp_path):
    script = tmp_path / "ends.py"
    script.write_text(
        "import sys, time\n"
        "def spin(t):\n"
        "    end = time.perf_counter() + t\n"
        "    while time.perf_counter() < end:\n"
        "        pass\n"
        "print('out-marker', flush=True)\n"
        "spin(1.5)\n"
        "print('err-marker', file=sys.stderr)\n"
        "sys.exit(3)\n")
    out = tmp_path / "whole.pb.gz"
    p = pane("--interval", INTERVAL, "-o", str(out), str(script))
    p.wait(lambda t: top_function(t) == "spin", "spin as the hottest function")
    assert p.exit_status() == 3
    text = p.text()
    # the program's output, held while the screen was in use, comes after it
    assert "out-marker" in text and "err-marker" in text
    assert f"wrote {out}" in text
    prof = Prof(str(out))
    assert prof.function_total("spin") > 0.7 * prof.total()
    # the whole run, not just the last interval
    assert prof.meta["duration_ns"] > 1.2e9


HOSTILE = (
    "import sys, time\n"
    "def burn(t):\n"
    "    end = time.perf_counter() + t\n"
    "    while time.perf_counter() < end:\n"
    "        pass\n"
    "name = 'evil\\x1b[2J\\x07name'\n"
    "kw = {'co_name': name}\n"
    "if sys.version_info >= (3, 11):\n"
    "    kw['co_qualname'] = name\n"
    "burn.__code__ = burn.__code__.replace(**kw)\n"
    "print('program-output', flush=True)\n"
    "burn(1.5)\n")


def test_not_a_terminal_prints_plain_tables(tmp_path):
    script = tmp_path / "hostile.py"
    script.write_text(HOSTILE)
    out = tmp_path / "whole.txt"
    cp = spyglass("top", "--interval", INTERVAL, "-o", str(out), str(script), timeout=60)
    assert cp.returncode == 0, cp.stderr
    assert "\x1b" not in cp.stdout and "\x07" not in cp.stdout and "\x1b" not in cp.stderr
    tables = cp.stdout.split("--- spyglass top")
    assert len(tables) >= 4, cp.stdout  # one per interval, and the last at the end
    assert "program-output" in cp.stdout
    last = tables[-1]
    assert "OWN%" in last and "MainThread" in last
    first_row = rows(last)[0]
    assert first_row[2] == "evil\\x1b[2J\\x07name", last
    assert float(first_row[0].rstrip("%")) > 70
    assert "\x1b" not in out.read_text() and "evil" in out.read_text()
    assert f"wrote {out}" in cp.stderr


def test_closed_output_stops_the_program():
    """`spyglass top script.py | head`: when the reader goes, top stops the program it
    started instead of leaving it running."""
    top = subprocess.Popen([sys.executable, "-m", "spyglass", "top", "--interval", INTERVAL,
                            target("hotline.py"), "120"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = top.stdout.readline().decode()
    pid = int(first.split("PID ")[1].split()[0])
    top.stdout.close()
    _, err = top.communicate(timeout=30)
    assert top.returncode == 0, err
    assert b"the program was stopped" in err
    assert not os.path.exists(f"/proc/{pid}")  # ended and reaped


def test_top_on_a_running_pid(tmp_path):
    prog = subprocess.Popen([sys.executable, target("exits.py"), "forever"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert prog.stdout.readline().strip() == "ready"
        top = subprocess.Popen([sys.executable, "-m", "spyglass", "top", "--interval",
                                INTERVAL, str(prog.pid)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        table = []
        for line in top.stdout:
            table.append(line)
            if line.startswith("--- ") and len(table) > 1:
                if rows("".join(table)) and top_function("".join(table)) == "busy":
                    break
                table = [line]
        assert top_function("".join(table)) == "busy", "".join(table)
        assert f"PID {prog.pid}" in "".join(table)
    finally:
        prog.kill()
        prog.wait()
    _, err = top.communicate(timeout=30)
    assert top.returncode == 0, err
    assert f"process {prog.pid} ended" in err


def test_bad_pids_give_one_line_and_status_2():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    cp = spyglass("top", str(gone.pid))
    assert cp.returncode == 2
    assert cp.stderr.splitlines() == [f"spyglass: error: no process with PID {gone.pid}"]
    assert cp.stdout == ""
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        cp = spyglass("top", str(sleeper.pid))
    finally:
        sleeper.kill()
        sleeper.wait()
    assert cp.returncode == 2
    assert len(cp.stderr.splitlines()) == 1 and "not running Python" in cp.stderr
    cp = spyglass("top", "--interval", "0", target("hotline.py"))
    assert cp.returncode == 2 and "--interval" in cp.stderr


@pytest.fixture(scope="module")
def threads_profile(tmp_path_factory):
    out = tmp_path_factory.mktemp("top") / "threads.pb.gz"
    cp = spyglass("run", "--rate", "200", "-o", str(out), target("threads.py"), "0.3")
    assert cp.returncode == 0, cp.stderr
    import spyglass as sg
    return sg.load(str(out))


def test_every_terminal_size_fits(threads_profile):
    """The layout at every size from 0x0 to 120x40: never a line too many or too long,
    the hottest rows kept while anything fits, one line when it cannot."""
    from spyglass import _top_view as v
    snap = v.Snapshot(threads_profile, 12.0, {"pid": 1, "command": "x\x1b[2J", "python": "3"})
    assert len(snap.threads) == 4
    state = v.ViewState()
    for kind in ("functions", "lines"):
        state.kind = kind
        for width in range(0, 121, 7):
            for height in range(0, 41, 3):
                lines = v.screen_lines(snap, state, width, height, 10.0)
                assert len(lines) <= height and all(len(x) <= width for x in lines), \
                    (width, height, lines)
                assert not any("\x1b" in x for x in lines)
                if width >= v.MIN_WIDTH and height >= v.MIN_HEIGHT:
                    assert rows("\n".join(lines)), (width, height, lines)
                elif width >= 18 and height >= 1:
                    assert lines[0].startswith("terminal too small")
    # thread selection cycles through every thread and back to all
    seen = []
    for _ in range(5):
        state.cycle_thread(snap.threads)
        seen.append(state.thread[1] if state.thread else None)
    assert seen[-1] is None and len(set(seen[:4])) == 4
