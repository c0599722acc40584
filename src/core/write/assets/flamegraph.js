// spyglass flame graph (SVG): details on hover, click to zoom, reset, search.
// Every frame is <g><title>LABEL\nFILE:LINE\nVALUES</title><rect data-x data-w/><text/></g>;
// data-x and data-w are the frame's start and width in value units, so zooming is exact.
// The names are only ever read from the document's text and written back as text.
"use strict";
(function () {
  var svg, details, matchedText, unzoomBtn, frames = [], total = 0;
  var width = 0, pad = 10, fh = 16, charW = 7.08, icicle = false, top = 0, base = 0;
  var zoomedTo = null, searchTerm = "";

  function attr(el, name) { return +el.getAttribute(name); }

  function describe(f) {
    return f.label + (f.where ? "  (" + f.where + ")" : "") + "  " + f.values;
  }

  function fit(label, w) {
    var chars = Math.floor((w - 6) / charW);
    if (chars < 3) return "";
    if (label.length <= chars) return label;
    return label.slice(0, chars - 2) + "..";
  }

  function load() {
    svg = document.documentElement;
    details = document.getElementById("details").firstChild;
    matchedText = document.getElementById("matched").firstChild;
    unzoomBtn = document.getElementById("unzoom");
    width = attr(svg, "width");
    pad = attr(svg, "data-pad");
    fh = attr(svg, "data-fh");
    charW = attr(svg, "data-char");
    total = attr(svg, "data-total");
    var group = document.getElementById("frames");
    icicle = group.getAttribute("data-icicle") === "1";
    top = attr(group, "data-top");
    base = attr(group, "data-base");
    var gs = group.getElementsByTagName("g");
    for (var i = 0; i < gs.length; i++) {
      var g = gs[i], rect = g.getElementsByTagName("rect")[0];
      var lines = g.getElementsByTagName("title")[0].textContent.split("\n");
      var y = attr(rect, "y");
      var f = {
        g: g, rect: rect, text: g.getElementsByTagName("text")[0] || null,
        x: attr(rect, "data-x"), w: attr(rect, "data-w"),
        depth: Math.round(icicle ? (y - top) / fh : (base - y) / fh - 1),
        label: lines[0], where: lines[1] || "", values: lines[2] || ""
      };
      g.sgFrame = f;
      frames.push(f);
    }
    group.addEventListener("mouseover", function (e) {
      var f = frameOf(e.target);
      if (f) details.nodeValue = describe(f);
    });
    group.addEventListener("mouseout", function () { details.nodeValue = " "; });
    group.addEventListener("click", function (e) {
      var f = frameOf(e.target);
      if (f) zoom(f);
    });
    unzoomBtn.addEventListener("click", function () { zoom(null); });
    document.getElementById("search").addEventListener("click", askSearch);
    window.addEventListener("keydown", function (e) {
      if ((e.ctrlKey || e.metaKey) && (e.key === "f" || e.key === "F")) {
        e.preventDefault();
        askSearch();
      } else if (e.key === "Escape") {
        zoom(null);
        search("");
      }
    });
    var params = new URLSearchParams(window.location.search);
    if (params.get("s")) search(params.get("s"));
    window.sgFlame = { zoom: zoomTo, search: search, frames: frames, reset: function () { zoom(null); },
                       readyAt: performance.now() };
  }

  function frameOf(node) {
    while (node && node !== svg) {
      if (node.sgFrame) return node.sgFrame;
      node = node.parentNode;
    }
    return null;
  }

  // Zooms so that f spans the whole width (null: back to the root). Frames under f are
  // rescaled, its ancestors stretched and dimmed, everything else hidden.
  function zoom(f) {
    if (f && f.depth === 0) f = null;
    zoomedTo = f;
    var x0 = f ? f.x : 0, w0 = f ? f.w : total, d0 = f ? f.depth : 0;
    var scale = w0 > 0 ? (width - 2 * pad) / w0 : 0;
    for (var i = 0; i < frames.length; i++) {
      var fr = frames[i], cls = "", x, w;
      if (fr.depth >= d0 && fr.x >= x0 && fr.x + fr.w <= x0 + w0) {
        x = pad + (fr.x - x0) * scale;
        w = fr.w * scale;
      } else if (fr.depth < d0 && fr.x <= x0 && fr.x + fr.w >= x0 + w0) {
        x = pad;
        w = width - 2 * pad;
        cls = "parent";
      } else {
        // hidden: touch the element only when it was shown (most stay hidden)
        if (!fr.hidden) {
          fr.hidden = true;
          fr.g.setAttribute("class", "hide" + (fr.matched ? " match" : ""));
        }
        continue;
      }
      fr.hidden = false;
      if (fr.matched) cls += " match";
      fr.g.setAttribute("class", cls);
      fr.rect.setAttribute("x", x.toFixed(2));
      fr.rect.setAttribute("width", w.toFixed(2));
      var label = fit(fr.label, w);
      if (!fr.text && label) {
        // narrow frames are written without a <text>; make one when zooming widens them
        fr.text = document.createElementNS("http://www.w3.org/2000/svg", "text");
        fr.text.setAttribute("y", (attr(fr.rect, "y") + fh - 4.5).toFixed(1));
        fr.g.appendChild(fr.text);
      }
      if (fr.text) {
        fr.text.setAttribute("x", (x + 3).toFixed(2));
        fr.text.textContent = label;
      }
    }
    unzoomBtn.setAttribute("class", f ? "button" : "button hide");
  }

  // For tests and links: zoom to the first frame with this label.
  function zoomTo(label) {
    for (var i = 0; i < frames.length; i++)
      if (frames[i].label === label) { zoom(frames[i]); return frames[i]; }
    return null;
  }

  function askSearch() {
    var term = window.prompt("Search (regular expression; empty to clear)", searchTerm);
    if (term !== null) search(term);
  }

  function matcher(term) {
    try {
      return new RegExp(term);
    } catch (e) {
      return new RegExp(term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    }
  }

  // Highlights the frames whose label or file matches; shows the share of the total
  // they cover (nested matches counted once).
  function search(term) {
    searchTerm = term || "";
    var re = searchTerm ? matcher(searchTerm) : null, spans = [];
    for (var i = 0; i < frames.length; i++) {
      var f = frames[i];
      f.matched = !!re && f.depth > 0 && (re.test(f.label) || re.test(f.where));
      var cls = (f.g.getAttribute("class") || "").replace(/ ?match/g, "");
      f.g.setAttribute("class", f.matched ? (cls ? cls + " match" : "match") : cls);
      if (f.matched) spans.push(f);
    }
    spans.sort(function (a, b) { return a.x - b.x || b.w - a.w; });
    var covered = 0, end = -1;
    for (var j = 0; j < spans.length; j++) {
      var s = spans[j];
      if (s.x >= end) { covered += s.w; end = s.x + s.w; }
      else if (s.x + s.w > end) { covered += s.x + s.w - end; end = s.x + s.w; }
    }
    var pct = total > 0 ? (100 * covered / total) : 0;
    matchedText.nodeValue = re ? "Matched: " + pct.toFixed(1) + "%" : " ";
    return pct;
  }

  if (document.readyState === "loading") window.addEventListener("load", load);
  else load();
})();
