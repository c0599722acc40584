"""--subprocesses: every descendant that runs Python is sampled as its own process."""
import subprocess
import sys

import pytest

from conftest import spyglass, target


def _by_process(path):
    import spyglass as sg

    d = sg.load(path).to_dict()
    funcs, locs = d["functions"], d["locations"]
    out = []
    for i, pr in enumerate(d["processes"]):
        names = {}
        for r in d["records"]:
            if d["tracks"][r["track"]]["process"] != i:
                continue
            seen = {funcs[locs[loc][0]][0] for loc in r["stack"]}
            for n in seen:
                names[n] = names.get(n, 0) + r["values"][0]
        out.append((pr, names))
    return out


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pool_workers_each_get_a_section(tmp_path, method):
    out = tmp_path / "p.pb.gz"
    cp = spyglass("run", "--subprocesses", "-o", str(out), target("children.py"), "pool",
                  method)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip() == "4"  # four distinct worker processes did the work
    procs = _by_process(str(out))
    workers = [(pr, names) for pr, names in procs if names.get("pool_work", 0) > 0]
    assert len(workers) == 4, [(pr["pid"], sorted(n)[:5]) for pr, n in procs]
    pids = {pr["pid"] for pr, _ in workers}
    assert len(pids) == 4
    for pr, names in workers:
        assert names["burn"] >= 0.5 * names["pool_work"]
        assert pr["python"].startswith("%d.%d." % sys.version_info[:2])
    main = procs[0][1]
    assert main.get("pool_work", 0) == 0  # the parent never ran the work itself
    text = subprocess.run([sys.executable, "-m", "spyglass", "report", str(out)],
                          capture_output=True, text=True).stdout
    for pid in pids:
        assert f"process {pid}:" in text


def test_subprocess_children_and_grandchildren(tmp_path):
    out = tmp_path / "p.pb.gz"
    cp = spyglass("run", "--subprocesses", "-o", str(out), target("children.py"),
                  "subprocess")
    assert cp.returncode == 0, cp.stderr
    procs = _by_process(str(out))
    child = [pr for pr, n in procs if n.get("child_work")]
    grand = [pr for pr, n in procs if n.get("grandchild_work")]
    assert len(child) == 1 and len(grand) == 1
    assert child[0]["pid"] != grand[0]["pid"]
    assert "grandchild_work" in grand[0]["cmdline"]


def test_short_lived_children_are_caught(tmp_path):
    out = tmp_path / "p.pb.gz"
    cp = spyglass("run", "--subprocesses", "-o", str(out), target("children.py"), "short",
                  "20")
    assert cp.returncode == 0, cp.stderr
    procs = _by_process(str(out))
    caught = [pr for pr, n in procs if n.get("short_lived")]
    # each lives about 0.1 s past its interpreter's start; a loaded machine may miss some
    assert len(caught) >= 15, len(caught)


def test_without_the_option_only_the_program(tmp_path):
    out = tmp_path / "p.pb.gz"
    cp = spyglass("run", "-o", str(out), target("children.py"), "subprocess")
    assert cp.returncode == 0, cp.stderr
    assert len(_by_process(str(out))) == 1
