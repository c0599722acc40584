"""Our speedscope files loaded in the speedscope app itself, as a person would: the npm
package `speedscope` (pinned in package.json here, installed by `make test-browser` into
build/browser/npm, its path in SG_SPEEDSCOPE) is served from 127.0.0.1 with the profile
beside it and opened with `#profileURL=`. The file must match the schema the app ships
and import (no error screen, no alert, no console error), every thread must be a
profile under its name, and functions must be listed, weighed and found by the app's
own search.

speedscope draws its flame charts on a canvas; its thread list (the profile selector)
and its Sandwich view (a table of functions with total and self time) are HTML, so the
assertions read those, and a screenshot checks that the flame chart is painted."""
import functools
import http.server
import json
import os
import re
import shutil
import threading

import jsonschema
import pytest

from conftest import TARGETS, model, shot, spyglass

APP = os.environ.get("SG_SPEEDSCOPE", "")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(directory served, base URL): the app under /app, profiles under /p."""
    if not os.path.exists(os.path.join(APP, "index.html")):
        pytest.fail(f"speedscope app missing at {APP!r}: run the browser tests with "
                    "`make test-browser`")
    root = tmp_path_factory.mktemp("speedscope-site")
    os.symlink(APP, root / "app")
    (root / "p").mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


_loads = [0]


def load(browser, site, path, view="sandwich"):
    """Opens the speedscope file at path in the app; returns the parsed file."""
    root, base = site
    _loads[0] += 1
    name = f"{_loads[0]}.speedscope.json"
    shutil.copy(path, root / "p" / name)
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    # the schema this very version of the app ships
    with open(os.path.join(APP, "file-format-schema.json"), encoding="utf-8") as f:
        jsonschema.validate(doc, json.load(f))
    # a new query string each time: a change of the hash alone would not reload the app
    browser.open(f"{base}/app/index.html?load={_loads[0]}#profileURL=/p/{name}&view={view}")
    first = doc["profiles"][doc.get("activeProfileIndex", 0)]["name"]
    browser.wait_for(f"document.body.innerText.includes({first!r}) || "
                     "document.body.innerText.includes('Something went wrong')")
    text = browser.eval("document.body.innerText")
    assert "Something went wrong" not in text and "Unrecognized format" not in text, text
    return doc


# the toolbar's title: the profile shown, then "(i/n)" when there are several
TITLE = """(() => {
  for (const s of document.querySelectorAll('span'))
    if (s.parentElement.tagName === 'DIV' && /\\(\\d+\\/\\d+\\)$/.test(s.textContent))
      return s;
  return null; })()"""


def title(browser):
    return browser.eval(f"(() => {{ const s = {TITLE}; return s && s.textContent; }})()")


def center_of(element_js):
    return f"""(() => {{ const r = {element_js}.getBoundingClientRect();
      return [r.left + r.width / 2, r.top + r.height / 2]; }})()"""


def profile_list(browser):
    """[(name, total weight as shown)] from the app's profile selector."""
    return browser.eval("""(() => {
      const input = document.querySelector("input[placeholder='Filter...']");
      if (!input) return null;
      let box = input;
      while (box && !box.querySelector('tbody')) box = box.parentElement;
      return Array.from(box.querySelectorAll('tbody tr'))
        .map(r => [r.cells[1].textContent, r.cells[2].textContent]); })()""")


def choose_profile(browser, name):
    """Opens the profile selector by clicking the title and clicks the profile's row."""
    browser.click(*browser.eval(center_of(TITLE)))
    row = browser.eval(f"""(() => {{
      for (const r of document.querySelectorAll('tr[title]'))
        if (r.title === {name!r}) {{
          const b = r.getBoundingClientRect();
          return b.width ? [b.left + b.width / 2, b.top + b.height / 2] : null; }}
      return null; }})()""")
    assert row, f"no visible row {name!r} in the profile selector"
    browser.click(*row)
    browser.wait_for(f"document.body.innerText.split('\\n').some(l => l.startsWith({name!r}))")


def click_text(browser, text):
    """Clicks the element of the toolbar whose own text is text."""
    element = f"""(() => {{
      for (const e of document.querySelectorAll('div'))
        if (e.lastChild && e.lastChild.nodeType === 3 && e.lastChild.textContent === {text!r})
          return e; }})()"""
    browser.click(*browser.eval(center_of(element)))


def sandwich(browser):
    """{function name: (total, self)} as the Sandwich view's table shows them."""
    # the header is a table of its own; the rows (those scrolled into view) the next one
    rows_js = """(() => {
      const tables = Array.from(document.querySelectorAll('table'));
      const i = tables.findIndex(t => t.tHead && t.tHead.textContent.includes('Symbol Name'));
      if (i < 0 || !tables[i + 1]) return null;
      return Array.from(tables[i + 1].rows).map(r => Array.from(r.cells).map(c => c.textContent));
      })()"""
    browser.wait_for(f"{rows_js} !== null")
    rows = browser.eval(rows_js)
    out = {}
    for total, self_, name in rows:
        assert name not in out, f"{name} listed twice"
        out[name] = (total, self_)
    return out


def search(browser, text):
    """Types text into the app's search (Ctrl+F); returns the match count it shows."""
    browser.key("f", "KeyF", 70, modifiers=2)
    browser.wait_for("document.activeElement && document.activeElement.tagName === 'INPUT'")
    browser.eval("document.activeElement.value = ''")
    browser.type_text(text)
    browser.wait_for("/\\/\\d+$/m.test(document.body.innerText)")
    return int(re.search(r"/(\d+)$", browser.eval("document.body.innerText"), re.M).group(1))


def speedscope_file(tmp_path, profile, *opts):
    out = tmp_path / f"{os.path.basename(profile)}.speedscope.json"
    spyglass("report", profile, "--format", "speedscope", "-o", str(out), *opts)
    return str(out)


def test_sampled_threads_load_with_names_and_weights(browser, site, tmp_path):
    load(browser, site, speedscope_file(tmp_path, model("multi.pb.gz")))
    assert title(browser) == "thread 100 MainThread (1001) (1/3)"
    assert profile_list(browser) == [["thread 100 MainThread (1001)", "800.00ms"],
                                     ["thread 100 worker-1 (1002)", "300.00ms"],
                                     ["thread 200 MainThread (2001)", "400.00ms"]]
    # functions, not lines: main (lines 3 and 4) is one row holding all of its thread
    assert sandwich(browser) == {"main": ("800.00ms (100%)", "0.00ns (<0.01%)"),
                                 "compute": ("600.00ms (75%)", "600.00ms (75%)"),
                                 "sleep": ("200.00ms (25%)", "200.00ms (25%)")}
    choose_profile(browser, "thread 100 worker-1 (1002)")
    assert title(browser) == "thread 100 worker-1 (1002) (2/3)"
    assert sandwich(browser)["crunch"] == ("300.00ms (100%)", "300.00ms (100%)")
    assert search(browser, "crunch") == 1
    assert list(sandwich(browser)) == ["crunch"]


def test_traced_profile_loads(browser, site, tmp_path):
    load(browser, site, speedscope_file(tmp_path, model("traced.pb.gz")))
    assert [n for n, _ in profile_list(browser)] == ["thread MainThread (3001)",
                                                     "thread worker (3002)"]
    rows = sandwich(browser)
    assert rows["parse"] == ("1.50s (50%)", "1.50s (50%)")
    # recursion counted once: fib's total is 1.0 s, not 1.8 s
    assert rows["fib"][0] == "1.00s (33%)"
    assert rows["main"][0] == "3.00s (100%)"
    # the deep recursion of another file (2,500 frames) loads too
    load(browser, site, speedscope_file(tmp_path, model("deep.pb.gz")))
    assert sandwich(browser)["recurse"] == ("70.00ms (70%)", "70.00ms (70%)")


def test_timeline_of_a_real_run_in_time_order(browser, site, tmp_path):
    out = tmp_path / "run.speedscope.json"
    spyglass("run", "--timeline", "--format", "speedscope", "-o", str(out),
             os.path.join(TARGETS, "named_threads.py"), "0.3")
    doc = load(browser, site, str(out), view="time-ordered")
    names = [n for n, _ in profile_list(browser)]
    assert names == [p["name"] for p in doc["profiles"]]
    # thread names as the program set them, outside the BMP too
    assert any("worker-α" in n for n in names) and any("emoji 🧵" in n for n in names), names
    # the time-ordered flame chart of the main thread is painted
    colours, painted = shot(browser, "speedscope-timeline", (0, 140, 1280, 120))
    assert colours >= 4 and painted > 0.2, (colours, painted)
    worker = next(n for n in names if "worker-α" in n)
    choose_profile(browser, worker)
    assert search(browser, "busy") >= 1
    click_text(browser, "Sandwich")
    rows = sandwich(browser)
    assert "busy" in rows, rows


def test_traced_real_run(browser, site, tmp_path):
    out = tmp_path / "trace.speedscope.json"
    spyglass("trace", "--format", "speedscope", "-o", str(out),
             os.path.join(TARGETS, "trace_threads.py"))
    doc = load(browser, site, str(out))
    names = [n for n, _ in profile_list(browser)]
    assert names == [p["name"] for p in doc["profiles"]]
    w3000 = next(n for n in names if "w3000" in n)
    choose_profile(browser, w3000)
    rows = sandwich(browser)
    # (tick's own time can be all tracer overhead, taken off: weightless, not drawn)
    assert "worker" in rows and "Thread.run" in rows, rows
    assert search(browser, "worker") >= 1


def test_hostile_names_stay_text(browser, site, tmp_path):
    load(browser, site, speedscope_file(tmp_path, model("hostile.pb.gz")))
    assert title(browser) is None  # one profile: no "(1/1)"
    rows = sandwich(browser)
    for name in ("<script>alert('name')</script>", "<img src=x onerror=alert('img')>",
                 "x\" onmouseover=\"alert('attr')", "</textarea><!--"):
        assert name in rows, (name, list(rows))
    assert browser.eval("document.images.length") == 0
    assert "alert('thread')" in browser.eval("document.body.innerText")
