"""Our line-table decoders against the running interpreter's own answers, for every
code object of every module of its standard library.

The table given to the decoders is the one the sampler reads from a code object in
memory: co_lnotab on 3.9, co_linetable on 3.10+. The interpreter's answer is
co_positions() on 3.11+, co_lines() on 3.10 and dis.findlinestarts() on 3.9.
"""

import bisect
import dis
import os
import random
import sys
import sysconfig
import time
import warnings

import pytest

from spyglass import _core

LNOTAB, V310, LOCATIONS = 1, 2, 3


def _expected_format():
    if sys.version_info < (3, 10):
        return LNOTAB
    if sys.version_info < (3, 11):
        return V310
    return LOCATIONS


def _table(code):
    return code.co_lnotab if sys.version_info < (3, 10) else code.co_linetable


def _stdlib_sources():
    root = sysconfig.get_paths()["stdlib"]
    for top, dirs, files in os.walk(root):
        # Installed third-party packages live below the stdlib directory; they are not
        # the standard library and vary from machine to machine.
        dirs[:] = sorted(
            d for d in dirs if d not in ("site-packages", "dist-packages", "__pycache__")
        )
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.join(top, name)


def _code_objects():
    codes = []
    for path in _stdlib_sources():
        try:
            with open(path, "rb") as f:
                source = f.read()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escapes etc. in old modules
                top = compile(source, path, "exec")
        except (SyntaxError, ValueError, UnicodeDecodeError, OSError, RecursionError):
            continue  # e.g. deliberately broken files in the test suite
        stack = [top]
        while stack:
            code = stack.pop()
            codes.append(code)
            stack.extend(c for c in code.co_consts if isinstance(c, type(top)))
    return codes


@pytest.fixture(scope="module")
def stdlib_codes():
    codes = _code_objects()
    assert len(codes) > 10000, "the standard library should hold many code objects"
    return codes


def _interpreter_lines(code):
    """The interpreter's line for each code unit (2-byte) offset, -1 for none."""
    n = len(code.co_code) // 2
    if sys.version_info >= (3, 11):
        return [-1 if p[0] is None else p[0] for p in code.co_positions()][:n]
    if sys.version_info >= (3, 10):
        lines = [-1] * n
        for start, end, line in code.co_lines():
            for o in range(start, end, 2):
                if o // 2 < n:
                    lines[o // 2] = -1 if line is None else line
        return lines
    # 3.9: the line of an offset is that of the last line start at or before it.
    starts = list(dis.findlinestarts(code))
    addrs = [a for a, _ in starts]
    lines = []
    for o in range(0, 2 * n, 2):
        i = bisect.bisect_right(addrs, o) - 1
        lines.append(starts[i][1] if i >= 0 else code.co_firstlineno)
    return lines


def _describe(code, offset):
    return "%s:%d %s offset %d" % (
        code.co_filename,
        code.co_firstlineno,
        code.co_name,
        offset,
    )


def _first_mismatch(expected, got):
    for i, (e, g) in enumerate(zip(expected, got)):
        if e != g:
            return i
    return min(len(expected), len(got))


def test_format_of_running_interpreter():
    assert _core.LINETABLE_FORMAT == _expected_format()


def test_line_matches_interpreter_for_every_stdlib_offset(stdlib_codes):
    fmt = _core.LINETABLE_FORMAT
    line = _core.linetable_line
    started = time.monotonic()
    checked = 0
    for code in stdlib_codes:
        table = _table(code)
        first = code.co_firstlineno
        expected = _interpreter_lines(code)
        got = [line(fmt, table, first, o) for o in range(0, 2 * len(expected), 2)]
        if got != expected:
            i = _first_mismatch(expected, got)
            pytest.fail(
                "%s: interpreter says line %r, we say %r"
                % (_describe(code, 2 * i), expected[i], got[i])
            )
        # A frame that has not started yet reports the first line (CPython does so).
        assert line(fmt, table, first, -1) == first, _describe(code, -1)
        if fmt != LNOTAB:
            # 3.10+ tables cover exactly the bytecode; past it there is no line.
            assert line(fmt, table, first, len(code.co_code)) == -1, _describe(
                code, len(code.co_code)
            )
        checked += len(expected)
    assert checked > 1000000
    print("checked %d offsets in %.1fs" % (checked, time.monotonic() - started))


def test_decode_matches_interpreter_for_every_stdlib_code(stdlib_codes):
    fmt = _core.LINETABLE_FORMAT
    for code in stdlib_codes:
        table = _table(code)
        ranges = _core.linetable_decode(fmt, table, code.co_firstlineno)
        expected = _interpreter_lines(code)
        got = [-1] * len(expected)
        prev_end = 0
        for start, end, ln in ranges:
            assert start == prev_end and end > start, (_describe(code, start), ranges)
            prev_end = end
            for o in range(start, min(end, 2 * len(expected)), 2):
                got[o // 2] = ln
        if got != expected:
            i = _first_mismatch(expected, got)
            pytest.fail(
                "%s: interpreter says line %r, decoded ranges say %r"
                % (_describe(code, 2 * i), expected[i], got[i])
            )
        if fmt == LOCATIONS and ranges:
            assert ranges[-1][1] == len(code.co_code), _describe(code, ranges[-1][1])


def _random_tables(rng, count):
    for _ in range(count):
        n = rng.randrange(0, 64)
        yield bytes(rng.randrange(256) for _ in range(n))


@pytest.mark.parametrize("fmt", [LNOTAB, V310, LOCATIONS])
def test_garbage_tables_never_crash_and_agree(fmt):
    """Tables come from another process's memory: any bytes must give an answer, and
    a successful decode must agree with the point lookup."""
    rng = random.Random(1234 + fmt)
    for table in _random_tables(rng, 3000):
        try:
            ranges = _core.linetable_decode(fmt, table, 10)
        except Exception:
            ranges = None
        for offset in (-1, 0, 1, 2, 7, 40, 200, 1000):
            got = _core.linetable_line(fmt, table, 10, offset)
            assert isinstance(got, int)
            if offset < 0:
                assert got == 10
            elif ranges is not None:
                want = -1
                for start, end, ln in ranges:
                    if start <= offset < end:
                        want = ln
                assert got == want, (table, offset, ranges)


def test_unknown_format_is_refused():
    assert _core.linetable_line(99, b"\x00\x01", 1, 0) == -1
    with pytest.raises(Exception):
        _core.linetable_decode(99, b"\x00\x01", 1)
