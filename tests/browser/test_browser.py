"""The flame graph (SVG) and the HTML report in headless Chromium, as a person would use
them: they render, hovering shows a frame's details, clicking zooms, search highlights,
the thread selector changes the totals; names from the profiled program stay text.

The profiles (gen_profiles.c) have known numbers: multi.pb.gz holds 1500 samples in two
processes (pid 100: MainThread 800 = compute 600 + sleep 200, worker-1 300 = crunch,
50 of them partial; pid 200: MainThread 400 = handle); traced.pb.gz 4.0 s of traced
time with calls; hostile.pb.gz names made of markup and script."""
import os

from conftest import TARGETS, model, pixel, shot, spyglass

MAGENTA = (230, 0, 230)


def open_report(browser, path):
    browser.open(path)
    browser.wait_for("window.sgReport && sgReport.ready")


def frame_box(browser, label):
    box = browser.eval(f"sgReport.flame.boxOf(sgReport.frame({label!r}))")
    assert box, f"frame {label} is not drawn"
    return box


def scrolled_to(browser, label):
    """The frame's box after scrolling the page so that it is in view."""
    box = frame_box(browser, label)
    browser.eval(f"window.scrollBy(0, {box['y'] - 300})")
    return frame_box(browser, label)


def center(box):
    return box["x"] + box["w"] / 2, box["y"] + box["h"] / 2


# ---- HTML report ----

def test_html_renders_hover_zoom_reset(browser, render):
    open_report(browser, render(model("multi.pb.gz"), "html"))
    assert browser.eval("sgReport.total()") == 1500
    assert "1,500 samples" in browser.eval("document.getElementById('total').textContent")
    # metadata
    meta = browser.eval("document.getElementById('meta').textContent")
    for text in ("python server.py --workers 2", "3.12.1", "1,000 Hz", "0.99%", "2.000 s"):
        assert text in meta, (text, meta)
    # the flame graph is drawn: many colours, much of the canvas painted
    canvas = browser.eval("(() => { const r = document.getElementById('flame')"
                          ".getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()")
    colours, painted = shot(browser, "html-flame", tuple(int(v) for v in canvas))
    assert colours >= 8 and painted > 0.3, (colours, painted)
    # hovering a frame shows its name, place and share
    x, y = center(frame_box(browser, "compute"))
    browser.mouse("mouseMoved", x, y)
    tip = browser.eval("document.getElementById('tip').hidden ? '' : "
                       "document.getElementById('tip').textContent")
    assert "compute" in tip and "/srv/app.py:10" in tip and "600 samples" in tip and "40.0%" in tip
    # clicking zooms: the clicked frame now spans the whole width
    width = canvas[2]
    before = frame_box(browser, "compute")["w"]
    browser.click(x, y)
    assert browser.eval("sgReport.flame.zoomed") == browser.eval("sgReport.frame('compute')")
    after = frame_box(browser, "compute")["w"]
    assert before < width * 0.6 and abs(after - width) < 2, (before, after, width)
    assert not browser.eval("document.getElementById('reset').disabled")
    # frames outside the zoomed one are gone, its ancestors stay
    assert browser.eval("sgReport.flame.boxOf(sgReport.frame('handle'))") is None
    assert frame_box(browser, "main")["w"] == after
    browser.click(*center(browser.eval(
        "(() => { const r = document.getElementById('reset').getBoundingClientRect();"
        " return {x: r.left, y: r.top, w: r.width, h: r.height}; })()")))
    assert browser.eval("sgReport.flame.zoomed") == 0
    assert abs(frame_box(browser, "compute")["w"] - before) < 1
    # the icicle puts the root at the top
    root_y = frame_box(browser, "all")["y"]
    browser.click(*center(browser.eval(
        "(() => { const r = document.getElementById('flip').getBoundingClientRect();"
        " return {x: r.left, y: r.top, w: r.width, h: r.height}; })()")))
    assert frame_box(browser, "all")["y"] < root_y


def test_html_search_highlights_and_shows_share(browser, render):
    open_report(browser, render(model("multi.pb.gz"), "html"))
    browser.eval("document.getElementById('search').focus()")
    browser.type_text("crunch")
    browser.wait_for("document.getElementById('matched').textContent !== ''")
    assert browser.eval("document.getElementById('matched').textContent") == "matched: 20.0%"
    box = frame_box(browser, "crunch")
    assert pixel(browser, box["x"] + 2, box["y"] + box["h"] / 2) == MAGENTA
    other = frame_box(browser, "compute")
    assert pixel(browser, other["x"] + 2, other["y"] + other["h"] / 2) != MAGENTA
    # the tables follow the search
    browser.eval("sgReport.setTab('functions')")
    names = browser.eval("Array.from(document.querySelectorAll('#functions tbody tr'))"
                         ".map(r => r.textContent)")
    assert len(names) == 1 and "crunch" in names[0]


def test_html_thread_selector_changes_totals(browser, render):
    open_report(browser, render(model("multi.pb.gz"), "html"))
    options = browser.eval("Array.from(document.getElementById('track').options)"
                           ".map(o => [o.value, o.text])")
    texts = [t for _, t in options]
    assert any("worker-1 (1002)" in t for t in texts) and any("process 200" in t for t in texts)

    def select(value):
        browser.eval(f"(() => {{ const s = document.getElementById('track'); s.value = {value!r};"
                     " s.dispatchEvent(new Event('change')); })()")
        return browser.eval("sgReport.total()")

    worker = next(v for v, t in options if "worker-1" in t)
    assert select(worker) == 300
    assert "300 samples" in browser.eval("document.getElementById('total').textContent")
    assert browser.eval("sgReport.frame('compute')") == -1
    assert browser.eval("sgReport.frame('[partial]')") >= 0
    assert select(next(v for v, t in options if "process 200" in t)) == 400
    assert select("all") == 1500
    # the cpu view leaves out the idle samples (sleep: 200)
    browser.eval("(() => { const s = document.getElementById('view'); s.value = 'cpu';"
                 " s.dispatchEvent(new Event('change')); })()")
    assert browser.eval("sgReport.total()") == 1300


def test_html_traced_profile_shows_calls_and_time(browser, render):
    open_report(browser, render(model("traced.pb.gz"), "html"))
    assert browser.eval("sgReport.total()") == 4_000_000_000
    assert "4.000 s" in browser.eval("document.getElementById('total').textContent")
    assert browser.eval("document.getElementById('view-box').hidden")
    assert "traced profile, function level" in browser.eval("document.getElementById('mode').textContent")
    x, y = center(frame_box(browser, "parse"))
    browser.mouse("mouseMoved", x, y)
    tip = browser.eval("document.getElementById('tip').textContent")
    assert "10 calls" in tip and "1.500 s" in tip, tip
    # functions table: calls and time; parse has 15 calls in all
    browser.eval("sgReport.setTab('functions')")
    heads = browser.eval("Array.from(document.querySelectorAll('#functions th')).map(h => h.textContent)")
    assert "calls" in heads and "self time" in heads
    rows = browser.eval("Array.from(document.querySelectorAll('#functions tbody tr'))"
                        ".map(r => Array.from(r.cells).map(c => c.textContent))")
    parse = next(r for r in rows if r[heads.index("function")] == "parse")
    assert parse[heads.index("calls")] == "15" and parse[heads.index("self %")] == "62.5%"
    fib = next(r for r in rows if r[heads.index("function")] == "fib")
    # recursion: fib's total counts each stack once (1.0 s, not 1.8 s)
    assert fib[heads.index("total time")] == "1.000 s" and fib[heads.index("calls")] == "21"
    # sorting by a column: click "calls"
    browser.eval(f"document.querySelectorAll('#functions th')[{heads.index('calls')}].click()")
    first = browser.eval("document.querySelector('#functions tbody tr').cells[0].parentNode.textContent")
    assert "fib" in first
    # the call tree expands and collapses
    browser.eval("sgReport.setTab('tree')")
    rows = browser.eval("document.querySelectorAll('#tree .row').length")
    browser.eval("document.getElementById('collapse').click()")
    assert browser.eval("document.querySelectorAll('#tree .row').length") == 2  # header, all
    browser.eval("document.querySelectorAll('#tree .row')[1].click()")
    assert browser.eval("document.querySelectorAll('#tree .row').length") == 4  # + 2 threads
    assert rows > 4
    # line level: hits instead of calls
    open_report(browser, render(model("lines.pb.gz"), "html"))
    assert "line level" in browser.eval("document.getElementById('mode').textContent")
    browser.eval("sgReport.setTab('lines')")
    heads = browser.eval("Array.from(document.querySelectorAll('#lines th')).map(h => h.textContent)")
    assert "hits" in heads


def test_html_hostile_names_stay_text(browser, render):
    open_report(browser, render(model("hostile.pb.gz"), "html"))
    assert browser.eval("document.images.length") == 0
    assert browser.eval("document.scripts.length") == 2
    assert browser.eval("document.title") == "spyglass: <script>alert('command')</script>"
    for name in ("<script>alert('name')</script>", "<img src=x onerror=alert('img')>",
                 "]]><script>alert('cdata')</script>", "line\\u2028separator\\u2029para",
                 "\\u202ereversed", "bad\\xff\\xfeutf8\\x01\\x1b[31m"):
        assert browser.eval(f"sgReport.frame({name!r})") >= 0, name
    x, y = center(frame_box(browser, "<script>alert('name')</script>"))
    browser.mouse("mouseMoved", x, y)
    assert "<script>alert('name')</script>" in browser.eval("document.getElementById('tip').textContent")
    for tab in ("tree", "functions", "lines", "source", "flame"):
        browser.eval(f"sgReport.setTab({tab!r})")
    assert "alert('thread')" in browser.eval("document.getElementById('track').textContent")
    assert browser.eval("document.images.length") == 0
    assert browser.eval("document.querySelectorAll('script').length") == 2


def test_html_of_a_real_run_with_hostile_names(browser, tmp_path):
    out = tmp_path / "run.html"
    spyglass("run", "--format", "html", "-o", str(out), os.path.join(TARGETS, "hostile_names.py"),
             "0.15")
    open_report(browser, str(out))
    assert browser.eval("sgReport.frame(\"<img src=x onerror=alert('img')>\")") >= 0
    assert browser.eval("document.images.length") == 0


def test_html_deeper_than_a_canvas(browser, render):
    open_report(browser, render(model("deep.pb.gz"), "html"))
    assert browser.eval("sgReport.total()") == 100
    assert browser.eval("sgReport.flame.tree.maxDepth") == 2502  # all, thread, main, 2500
    height = browser.eval("document.getElementById('flame').height")
    assert 0 < height <= 30000
    # the root and the shallow branch are drawn and can be zoomed into
    x, y = center(scrolled_to(browser, "shallow"))
    browser.click(x, y)
    assert browser.eval("sgReport.flame.zoomed") == browser.eval("sgReport.frame('shallow')")


def test_html_annotated_source_of_a_real_run(browser, tmp_path):
    out = tmp_path / "hot.html"
    script = os.path.join(TARGETS, "hotline.py")
    spyglass("run", "-o", str(out), script, "0.3")
    open_report(browser, str(out))
    browser.eval("sgReport.setTab('source')")
    assert browser.eval("document.getElementById('file').selectedOptions[0].text").startswith(script)
    rows = browser.eval("Array.from(document.querySelectorAll('#source .src.hot'))"
                        ".map(r => Array.from(r.children).map(c => c.textContent))")
    hottest = max(rows, key=lambda r: float(r[2].rstrip("%") or 0))  # by self
    assert hottest[3].rstrip().endswith("# HOT"), hottest
    # the lines table links to the same line
    browser.eval("sgReport.setTab('lines')")
    browser.eval("document.querySelector('#lines tbody tr.link').click()")
    assert browser.eval("document.querySelector('#source .src.target .code').textContent").rstrip().endswith("# HOT")


# ---- SVG flame graph ----

def svg_frame(browser, label):
    return browser.eval(
        "(() => { for (const g of document.querySelectorAll('#frames g')) {"
        f" if (g.querySelector('title').textContent.split('\\n')[0] === {label!r}) {{"
        " const r = g.querySelector('rect'), b = r.getBoundingClientRect();"
        " return {x: b.left, y: b.top, w: b.width, h: b.height, width: +r.getAttribute('width'),"
        " cls: g.getAttribute('class') || ''}; } } return null; })()")


def test_svg_hover_zoom_search(browser, render):
    browser.open(render(model("multi.pb.gz"), "flamegraph"))
    browser.wait_for("window.sgFlame")
    assert browser.eval("document.documentElement.tagName") == "svg"
    colours, painted = shot(browser, "svg-flame", (0, 0, 1200, 300))
    assert colours >= 8 and painted > 0.1, (colours, painted)
    compute = svg_frame(browser, "compute")
    assert compute and abs(compute["width"] - 1180 * 600 / 1500) < 0.01
    # hover: the details line names the frame
    browser.mouse("mouseMoved", compute["x"] + compute["w"] / 2, compute["y"] + compute["h"] / 2)
    details = browser.eval("document.getElementById('details').textContent")
    assert "compute" in details and "/srv/app.py:10" in details and "600 samples" in details
    # click: the frame fills the width, frames elsewhere are hidden, reset restores
    browser.click(compute["x"] + compute["w"] / 2, compute["y"] + compute["h"] / 2)
    assert abs(svg_frame(browser, "compute")["width"] - 1180) < 0.01
    assert "hide" in svg_frame(browser, "handle")["cls"]
    assert "parent" in svg_frame(browser, "main")["cls"]
    unzoom = browser.eval("(() => { const b = document.getElementById('unzoom').getBBox();"
                          " return [b.x + b.width / 2, b.y + b.height / 2]; })()")
    browser.click(*unzoom)
    assert abs(svg_frame(browser, "compute")["width"] - 1180 * 600 / 1500) < 0.01
    assert "hide" not in svg_frame(browser, "handle")["cls"]
    # search: the prompt is answered, matches turn magenta, the share is shown
    browser.dialog_answer = "crunch"
    search = browser.eval("(() => { const b = document.getElementById('search').getBBox();"
                          " return [b.x + b.width / 2, b.y + b.height / 2]; })()")
    browser.click(*search)
    browser.wait_for("document.getElementById('matched').textContent.trim() !== ''")
    assert browser.eval("document.getElementById('matched').textContent") == "Matched: 20.0%"
    assert [d["type"] for d in browser.dialogs] == ["prompt"]
    crunch = svg_frame(browser, "crunch")
    assert "match" in crunch["cls"]
    assert pixel(browser, crunch["x"] + 2, crunch["y"] + crunch["h"] / 2) == MAGENTA


def test_svg_icicle_and_traced(browser, render):
    browser.open(render(model("traced.pb.gz"), "flamegraph", "--icicle"))
    browser.wait_for("window.sgFlame")
    root, parse = svg_frame(browser, "all"), svg_frame(browser, "parse")
    assert root["y"] < parse["y"]
    browser.mouse("mouseMoved", parse["x"] + 2, parse["y"] + parse["h"] / 2)
    assert "10 calls" in browser.eval("document.getElementById('details').textContent")


def test_svg_hostile_names_stay_text(browser, render):
    browser.open(render(model("hostile.pb.gz"), "flamegraph"))
    browser.wait_for("window.sgFlame")
    assert browser.eval("document.documentElement.tagName") == "svg"
    assert browser.eval("document.getElementsByTagName('parsererror').length") == 0
    assert browser.eval("document.getElementsByTagName('script').length") == 1
    assert browser.eval("document.getElementsByTagName('img').length") == 0
    frame = svg_frame(browser, "]]><script>alert('cdata')</script>")
    assert frame is not None
    browser.mouse("mouseMoved", frame["x"] + frame["w"] / 2, frame["y"] + frame["h"] / 2)
    assert "]]><script>" in browser.eval("document.getElementById('details').textContent")
    browser.click(frame["x"] + frame["w"] / 2, frame["y"] + frame["h"] / 2)
    assert abs(svg_frame(browser, "]]><script>alert('cdata')</script>")["width"] - 1180) < 0.01
