"""Fixtures of the browser tests: one headless Chromium for the session, the profiles
written by gen_profiles (SG_MODELS, see `make test-browser`), and rendering a profile
through the `spyglass report` command."""
import os
import subprocess
import sys

import pytest

from cdp import Browser, png_pixels

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = os.path.join(os.path.dirname(HERE), "targets")
MODELS = os.environ.get("SG_MODELS", "")
SHOTS = os.environ.get("SG_SHOTS", "")


def model(name):
    path = os.path.join(MODELS, name)
    if not os.path.exists(path):
        pytest.fail(f"{path} missing: run the browser tests with `make test-browser`")
    return path


def spyglass(*args, timeout=120):
    cp = subprocess.run([sys.executable, "-m", "spyglass", *args], capture_output=True,
                        text=True, timeout=timeout)
    assert cp.returncode == 0, cp.stderr
    return cp


@pytest.fixture
def render(tmp_path):
    """render(profile, "html"|"flamegraph", *options) -> path of the written file."""

    def go(profile, fmt, *opts):
        out = tmp_path / ("out.html" if fmt == "html" else "out.svg")
        spyglass("report", profile, "--format", fmt, "-o", str(out), *opts)
        return str(out)

    return go


@pytest.fixture(scope="session")
def browser():
    b = Browser()
    yield b
    b.close()


@pytest.fixture(autouse=True)
def page_is_clean(request, browser):
    """Every page must load and run without a console error, an uncaught exception or
    an alert(): a dialog other than the one a test asks for means a name ran as code."""
    browser.console_errors.clear()
    browser.dialogs.clear()
    browser.dialog_answer = None
    yield
    assert browser.console_errors == []
    assert [d for d in browser.dialogs if d.get("type") != "prompt"] == []


def shot(browser, name, clip):
    """Screenshot of clip (x, y, w, h); saved under SG_SHOTS to be looked at. Returns
    (distinct colours, share of pixels that are not the background)."""
    data = browser.screenshot(clip=clip)
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        with open(os.path.join(SHOTS, name + ".png"), "wb") as f:
            f.write(data)
    width, height, bpp, rows = png_pixels(data)
    colours, painted = set(), 0
    background = tuple(rows[0][:3])
    for row in rows[::2]:
        for x in range(0, width * bpp, bpp * 2):
            px = tuple(row[x:x + 3])
            colours.add(px)
            painted += px != background
    return len(colours), painted / (len(rows[::2]) * len(range(0, width * bpp, bpp * 2)))


def pixel(browser, x, y):
    _, _, _, rows = png_pixels(browser.screenshot(clip=(int(x), int(y), 1, 1)))
    return tuple(rows[0][:3])
