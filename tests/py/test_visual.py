"""The browser formats from the command line and the API, on a real sampled run: the
flame graph is an SVG whose frames add up to the profile, the HTML report embeds the
profile as JSON that reads back to the same totals, and --open hands the file to the
web browser. (Their behaviour in a browser is tested in tests/browser.)"""
import json
import os
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from conftest import Prof, spyglass, target

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def profile(tmp_path_factory):
    path = tmp_path_factory.mktemp("visual") / "threads.pb.gz"
    cp = spyglass("run", "-o", str(path), target("threads.py"), "0.2")
    assert cp.returncode == 0, cp.stderr
    return str(path)


def frames(svg_path):
    """(label, data-w, rect element) of every frame of a flame graph SVG."""
    root = ET.parse(svg_path).getroot()
    out = []
    for g in root.iter(SVG + "g"):
        title, rect = g.find(SVG + "title"), g.find(SVG + "rect")
        if title is not None and rect is not None:
            out.append((title.text.split("\n")[0], int(rect.get("data-w")), rect))
    return out


def report_data(html):
    start = html.index('<script type="application/json" id="sg-data">')
    start = html.index(">", start) + 1
    return json.loads(html[start:html.index("</script>", start)])


def test_assets_embedded_in_c_are_current():
    cp = subprocess.run([sys.executable, os.path.join(REPO, "tools", "gen_assets.py"), "--check"],
                        capture_output=True, text=True)
    assert cp.returncode == 0, cp.stderr


def test_svg_suffix_writes_a_flame_graph_that_adds_up(profile, tmp_path):
    out = tmp_path / "fg.svg"
    cp = spyglass("report", profile, "-o", str(out))
    assert cp.returncode == 0, cp.stderr
    fr = frames(str(out))
    prof = Prof(profile)
    assert fr[0][0] == "all" and fr[0][1] == prof.total()
    threads = [f for f in fr if f[0].startswith("thread ")]
    assert sum(w for _, w, _ in threads) == prof.total()
    tids = {t["tid"] for t in prof.tracks}
    assert {int(label.rsplit("(", 1)[1].rstrip(")")) for label, _, _ in threads} == tids
    spin = [w for label, w, _ in fr if label == "spin"]
    assert spin and sum(spin) == prof.function_total("spin")
    # the icicle: the root at the top
    cp = spyglass("report", profile, "--format", "flamegraph", "--icicle", "-o", str(out))
    assert cp.returncode == 0, cp.stderr
    ic = frames(str(out))
    assert float(ic[0][2].get("y")) < float(ic[1][2].get("y"))


def test_html_report_embeds_the_profile(profile, tmp_path):
    out = tmp_path / "r.html"
    cp = spyglass("report", profile, "--format", "html", "-o", str(out), "--threads", "main")
    assert cp.returncode == 0, cp.stderr
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "sgReport" in html
    # self-contained: the page (all but the embedded data) refers to nothing outside
    start = html.index('id="sg-data">')
    page = html[:start] + html[html.index("</script>", start):]
    assert "http:" not in page and "https:" not in page and "//cdn" not in page
    data = report_data(html)
    prof = Prof(profile)
    main = [t for t in prof.tracks if t["is_main"]]
    with_records = [data["tracks"][t][1] for t, recs in enumerate(data["records"]) if recs]
    assert with_records == [main[0]["tid"]]
    total = sum(recs[i + 2] for recs in data["records"] for i in range(0, len(recs), 3))
    assert total == prof.total(lambda r: r["tid"] == main[0]["tid"])
    assert data["meta"]["mode"] == "sample" and data["meta"]["rate_hz"] == 1000
    # the target's own source is embedded for the annotated view
    files = [data["strings"][f] for f, _ in data["sources"]]
    assert target("threads.py") in files


def test_render_from_python(profile):
    import spyglass as sg

    p = sg.load(profile)
    svg = p.render("flamegraph", icicle=True)
    assert svg.startswith(b"<?xml") and b">Icicle Graph<" in svg
    html = p.render("html", view="cpu")
    assert report_data(html.decode())["meta"]["view"] == "cpu"


def test_open_hands_the_report_to_the_browser(profile, tmp_path):
    seen = tmp_path / "seen.txt"
    fake = tmp_path / "fake-browser"
    fake.write_text(f"#!/bin/sh\necho \"$1\" > {seen}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, BROWSER=str(fake))
    cp = spyglass("report", profile, "--format", "html", "--open", env=env)
    assert cp.returncode == 0, cp.stderr
    url = seen.read_text().strip()
    assert url.startswith("file:///") and url.endswith(".html"), url
    path = url[len("file://"):]
    try:
        assert open(path, encoding="utf-8").read().startswith("<!DOCTYPE html>")
        assert path in cp.stderr and cp.stdout == ""
    finally:
        os.unlink(path)
    # with -o the named file is opened
    out = tmp_path / "named.svg"
    cp = spyglass("report", profile, "-o", str(out), "--open", env=env)
    assert cp.returncode == 0, cp.stderr
    assert seen.read_text().strip() == out.as_uri()
    # and a format no browser shows is refused in one line
    cp = spyglass("report", profile, "--format", "text", "--open", env=env)
    assert cp.returncode == 2 and cp.stderr.count("\n") == 1 and "--open" in cp.stderr


def test_run_open_without_a_browser_still_writes(tmp_path):
    env = dict(os.environ, BROWSER=str(tmp_path / "no-such-browser"))
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    out = tmp_path / "r.html"
    cp = spyglass("run", "--open", "-o", str(out), target("hotline.py"), "0.1", env=env)
    assert cp.returncode == 0, cp.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "could not start a web browser" in cp.stderr or "wrote" in cp.stderr
