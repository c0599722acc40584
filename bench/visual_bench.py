#!/usr/bin/env python3
"""Size and speed of the browser formats on a large profile (`make bench-visual`).

Builds a sampled profile of SAMPLES samples over STACKS distinct stacks with
tests/browser/gen_profiles, writes it as HTML and as an SVG flame graph with
`spyglass report`, then opens each in headless Chromium (tests/browser/cdp.py) and
reports, as the median of --repeat loads:

  html  first render: from navigation start until the flame graph is drawn
        (sgReport.timing.first), with the page's own split (JSON parse, model, render)
  svg   load: from navigation start until the embedded script has indexed the frames
  both  click to zoom: from the click event on a frame until the next frame is painted

The machine this runs on is shared, so single numbers are noisy: look at the medians.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "browser"))

from cdp import Browser  # noqa: E402

LATENCY_PROBE = """(() => {
  window.__lat = null;
  window.addEventListener("click", () => {
    const t = performance.now();
    requestAnimationFrame(() => setTimeout(() => { window.__lat = performance.now() - t; }, 0));
  }, {capture: true, once: true});
})()"""


def run(cmd):
    t = time.monotonic()
    subprocess.run(cmd, check=True)
    return time.monotonic() - t


def click_latency(b, x, y):
    b.eval(LATENCY_PROBE)
    b.click(x, y)
    b.wait_for("window.__lat !== null", timeout=60)
    return b.eval("window.__lat")


def html_round(b, path):
    b.open(path)
    b.wait_for("window.sgReport && sgReport.ready", timeout=120)
    timing = b.eval("sgReport.timing")
    # a frame a few levels down, wide enough to click
    box = b.eval("""(() => {
      const f = sgReport.flame, t = f.tree;
      let best = -1;
      for (let i = 1; i < t.n; i++)
        if (t.depth[i] === 6 && t.total[i] > 0 && (best < 0 || t.total[i] > t.total[best])) best = i;
      const box = f.boxOf(best);
      window.scrollTo(0, Math.max(0, box.y + window.scrollY - 400));
      return f.boxOf(best);
    })()""")
    lat = click_latency(b, box["x"] + box["w"] / 2, box["y"] + box["h"] / 2)
    drawn_zoomed = b.eval("sgReport.flame.drawn")
    # back to the whole graph: the largest redraw there is
    b.eval("window.scrollTo(0, 0)")
    reset = b.eval("(() => { const r = document.getElementById('reset').getBoundingClientRect();"
                   " return [r.left + r.width / 2, r.top + r.height / 2]; })()")
    lat_reset = click_latency(b, *reset)
    return (timing, lat, b.eval("sgReport.flame.lastDrawMs"), b.eval("sgReport.flame.tree.n"),
            b.eval("sgReport.flame.drawn"), drawn_zoomed, lat_reset)


def svg_round(b, path):
    b.open(path)
    b.wait_for("window.sgFlame", timeout=120)
    ready = b.eval("sgFlame.readyAt")
    box = b.eval("""(() => {
      const fr = sgFlame.frames.filter(f => f.depth === 6).sort((a, b) => b.w - a.w)[0];
      const r = fr.rect.getBoundingClientRect();
      return {x: r.left, y: r.top, w: r.width, h: r.height};
    })()""")
    b.eval(f"window.scrollTo(0, {max(0, box['y'] - 300)})")
    box["y"] -= b.eval("window.scrollY")
    lat = click_latency(b, box["x"] + box["w"] / 2, box["y"] + box["h"] / 2)
    b.eval("window.scrollTo(0, 0)")
    reset = b.eval("(() => { const r = document.getElementById('unzoom').getBoundingClientRect();"
                   " return [r.left + r.width / 2, r.top + r.height / 2]; })()")
    lat_reset = click_latency(b, *reset)
    return ready, lat, b.eval("sgFlame.frames.length"), lat_reset


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gen", required=True, help="the gen_profiles program")
    ap.add_argument("--out", required=True, help="a directory for the files")
    ap.add_argument("--stacks", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", help="measure this profile instead of generating one "
                    "(e.g. the model.pb.gz that bench/write_bench saves)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    prof = args.profile or os.path.join(args.out, "big.pb.gz")
    html = os.path.join(args.out, "big.html")
    svg = os.path.join(args.out, "big.svg")
    py = sys.executable
    t_gen = 0.0 if args.profile else run([args.gen, "big", prof, str(args.stacks),
                                          str(args.samples)])
    t_html = [run([py, "-m", "spyglass", "report", prof, "-o", html]) for _ in range(args.repeat)]
    t_svg = [run([py, "-m", "spyglass", "report", prof, "-o", svg]) for _ in range(args.repeat)]
    import spyglass
    p = spyglass.load(prof)
    w_html, w_svg = [], []
    for _ in range(args.repeat):
        t = time.monotonic()
        p.render("html")
        w_html.append(time.monotonic() - t)
        t = time.monotonic()
        p.render("flamegraph")
        w_svg.append(time.monotonic() - t)

    b = Browser()
    try:
        hr = [html_round(b, html) for _ in range(args.repeat)]
        sr = [svg_round(b, svg) for _ in range(args.repeat)]
        b.screenshot(os.path.join(args.out, "big-html-zoomed.png"))
    finally:
        b.close()
    med = statistics.median
    if args.profile:
        print(f"profile: {prof} ({os.path.getsize(prof) / 1e6:.1f} MB)")
    else:
        print(f"profile: {args.samples:,} samples over {args.stacks:,} distinct stacks "
              f"(generated in {t_gen:.1f} s, {os.path.getsize(prof) / 1e6:.1f} MB)")
    print(f"html: {os.path.getsize(html) / 1e6:.1f} MB; writer {med(w_html):.2f} s "
          f"(spyglass report {med(t_html):.2f} s); {hr[0][3]:,} frames")
    print(f"  first render {med(h[0]['first'] for h in hr):.0f} ms after navigation start "
          f"(JSON parse {med(h[0]['parse'] for h in hr):.0f} ms, model "
          f"{med(h[0]['model'] for h in hr):.0f} ms, aggregate and draw "
          f"{med(h[0]['render'] for h in hr):.0f} ms)")
    print(f"  click to zoom {med(h[1] for h in hr):.0f} ms to the next paint "
          f"({hr[0][5]:,} frames drawn); reset zoom {med(h[6] for h in hr):.0f} ms "
          f"(redraw {med(h[2] for h in hr):.0f} ms, {hr[0][4]:,} frames drawn)")
    print(f"svg: {os.path.getsize(svg) / 1e6:.1f} MB; writer {med(w_svg):.2f} s "
          f"(spyglass report {med(t_svg):.2f} s); {sr[0][2]:,} frames drawn")
    print(f"  loaded and indexed {med(s[0] for s in sr):.0f} ms after navigation start")
    print(f"  click to zoom {med(s[1] for s in sr):.0f} ms to the next paint; reset zoom "
          f"{med(s[3] for s in sr):.0f} ms")
    print("  runs: html first " + ", ".join(f"{h[0]['first']:.0f}" for h in hr) +
          "; html zoom " + ", ".join(f"{h[1]:.0f}" for h in hr) +
          "; svg load " + ", ".join(f"{s[0]:.0f}" for s in sr) +
          "; svg zoom " + ", ".join(f"{s[1]:.0f}" for s in sr) +
          "; html reset " + ", ".join(f"{h[6]:.0f}" for h in hr) +
          "; svg reset " + ", ".join(f"{s[3]:.0f}" for s in sr))


if __name__ == "__main__":
    main()
