"""Helpers for the functional tests: run the spyglass command on a target program and
read the profile it wrote as plain data (via the model, never by parsing text)."""
import json
import os
import subprocess
import sys
from collections import defaultdict

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = os.path.join(os.path.dirname(HERE), "targets")

ONCPU, GIL, GILWAIT, PARTIAL = 1, 2, 4, 8


def target(name):
    return os.path.join(TARGETS, name)


def spyglass(*args, timeout=120, env=None, **kw):
    """Runs `python -m spyglass ARGS`; returns the CompletedProcess (text mode)."""
    return subprocess.run(
        [sys.executable, "-m", "spyglass", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        **kw,
    )


class Prof:
    """A loaded profile with each record's stack resolved to (name, file, line) tuples."""

    def __init__(self, path):
        import spyglass

        self.raw = spyglass.load(path).to_dict()
        funcs = self.raw["functions"]
        locs = self.raw["locations"]
        self.meta = self.raw["meta"]
        self.attrs = self.raw["attrs"]
        self.tracks = self.raw["tracks"]
        self.records = []
        for r in self.raw["records"]:
            stack = []
            for loc in r["stack"]:
                f, line = locs[loc]
                name, filename, _first = funcs[f]
                stack.append((name, filename, line))
            self.records.append(
                {"tid": self.tracks[r["track"]]["tid"], "flags": r["flags"],
                 "count": r["values"][0], "stack": stack}
            )

    def total(self, pred=lambda r: True):
        return sum(r["count"] for r in self.records if pred(r))

    def function_total(self, name, pred=lambda r: True):
        """Samples whose stack contains function `name` (each stack counted once)."""
        return sum(
            r["count"] for r in self.records if pred(r) and any(f[0] == name for f in r["stack"])
        )

    def self_by_line(self, pred=lambda r: True):
        out = defaultdict(int)
        for r in self.records:
            if pred(r) and r["stack"]:
                leaf = r["stack"][-1]
                out[(leaf[1], leaf[2])] += r["count"]
        return out

    def errors(self):
        ok = sum(p["samples_ok"] for p in self.raw["processes"])
        bad = sum(p["samples_failed"] for p in self.raw["processes"])
        return ok, bad


@pytest.fixture
def run_profiled(tmp_path):
    """run_profiled(target_name, *args, opts=[...]) -> (CompletedProcess, Prof)."""

    def run(name, *args, opts=(), timeout=120):
        out = tmp_path / "profile.pb.gz"
        cp = spyglass("run", "-o", str(out), *opts, target(name), *args, timeout=timeout)
        assert out.exists(), f"no profile written; stderr:\n{cp.stderr}"
        return cp, Prof(str(out))

    return run


def stdout_json(cp):
    return json.loads(cp.stdout.strip().splitlines()[-1])
