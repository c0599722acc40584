// Differential flame graph: details on hover, click to zoom, search. Works inline in
// the HTML page and in the standalone SVG (no library, no network).
(function () {
  var svg = document.getElementById("sgf");
  if (!svg) return;
  var W = +svg.getAttribute("data-width");
  var frames = [].slice.call(svg.querySelectorAll("g.f"));
  var details = document.getElementById("sgf-details");
  var reset = document.getElementById("sgf-reset");
  var matched = document.getElementById("sgf-matched");
  function num(g, k) { return +g.getAttribute("data-" + k); }
  function fit(g, w) {
    var n = g.getAttribute("data-n"), c = Math.floor((w - 6) / 7.3);
    g.querySelector("text").textContent = c < 3 ? "" : n.length <= c ? n : n.slice(0, c - 2) + "..";
  }
  function place(g, x, w) {
    var r = g.querySelector("rect");
    r.setAttribute("x", x.toFixed(2));
    r.setAttribute("width", Math.max(w - 0.5, 0).toFixed(2));
    g.querySelector("text").setAttribute("x", (x + 3).toFixed(2));
    fit(g, w);
  }
  function zoom(z) {
    var x0 = num(z, "x"), w0 = num(z, "w"), d0 = num(z, "d"), e = 1e-9;
    frames.forEach(function (g) {
      var x = num(g, "x"), w = num(g, "w"), d = num(g, "d");
      var show = true;
      if (d < d0 && x <= x0 + e && x + w >= x0 + w0 - e) {
        g.classList.add("up");
        place(g, 0, W);
      } else if (d >= d0 && x >= x0 - e && x + w <= x0 + w0 + e) {
        g.classList.remove("up");
        place(g, (x - x0) / w0 * W, w / w0 * W);
      } else {
        show = false;
      }
      g.style.display = show ? "" : "none";
    });
    reset.style.display = "";
  }
  function unzoom() {
    frames.forEach(function (g) {
      g.style.display = "";
      g.classList.remove("up");
      place(g, num(g, "x") * W, num(g, "w") * W);
    });
    reset.style.display = "none";
  }
  function search() {
    var q = prompt("Search functions (regular expression):", ""), re;
    if (q === null) return;
    try { re = new RegExp(q); } catch (err) { alert("Not a regular expression: " + q); return; }
    var spans = [];
    frames.forEach(function (g) {
      var hit = q !== "" && re.test(g.getAttribute("data-n"));
      g.classList.toggle("hit", hit);
      if (hit) spans.push([num(g, "x"), num(g, "x") + num(g, "w")]);
    });
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var sum = 0, end = -1;
    spans.forEach(function (s) {
      if (s[1] <= end) return;
      sum += s[1] - Math.max(s[0], end);
      end = s[1];
    });
    matched.textContent = q === "" ? " " : "Matched: " + (100 * sum).toFixed(1) + "% of NEW";
  }
  frames.forEach(function (g) {
    g.addEventListener("click", function () { zoom(g); });
    g.addEventListener("mouseover", function () {
      details.textContent = g.querySelector("title").textContent.split("\n").join("  |  ");
    });
    g.addEventListener("mouseout", function () { details.textContent = " "; });
  });
  reset.addEventListener("click", unzoom);
  document.getElementById("sgf-search").addEventListener("click", search);
})();
