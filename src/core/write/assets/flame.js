// spyglass: a flame graph (or icicle) drawn on a canvas.
//
// A canvas keeps the page responsive with hundreds of thousands of frames: a redraw
// visits only the frames that are at least MIN_PX wide in the current zoom (their
// narrower children are skipped whole), so its cost follows the pixels, not the
// profile. Hit testing uses the boxes of the last redraw, one sorted list per row.
//
// The tree is given as parallel arrays (see report.js buildFlame): parent, depth,
// start and total (value units), firstChild/nextSibling and lastChild/prevSibling in
// drawing order, maxDepth,
// and callbacks label(i), color(i) and describe(i) (the tooltip's lines). Names only
// ever reach the screen through fillText and textContent.
"use strict";

function SgFlame(canvas, tip, hooks) {
  this.canvas = canvas;
  this.tip = tip;
  this.hooks = hooks || {};
  this.tree = null;
  this.icicle = false;
  this.zoomed = 0;
  this.matched = null;
  this.rowH = 18;
  this.rows = [];
  this.lastDrawMs = 0;
  this.colors = [];
  var me = this;
  canvas.addEventListener("mousemove", function (e) { me.hover(e); });
  canvas.addEventListener("mouseleave", function () { me.hideTip(); });
  canvas.addEventListener("click", function (e) {
    var i = me.frameAt(e);
    if (i >= 0) me.zoom(i);
  });
  window.addEventListener("resize", function () { if (me.tree) me.draw(); });
}

SgFlame.MIN_PX = 0.35;
SgFlame.MAX_HEIGHT = 30000; // browsers refuse larger canvases: deeper frames are not drawn

SgFlame.prototype.setTree = function (tree, matched) {
  this.tree = tree;
  this.zoomed = 0;
  this.matched = matched || null;
  this.colors = new Array(tree.n);
  this.draw();
};

SgFlame.prototype.setIcicle = function (on) {
  this.icicle = !!on;
  this.draw();
};

SgFlame.prototype.setMatched = function (matched) {
  this.matched = matched;
  this.draw();
};

SgFlame.prototype.zoom = function (i) {
  if (!this.tree) return;
  this.zoomed = i > 0 ? i : 0;
  this.draw();
  if (this.hooks.onZoom) this.hooks.onZoom(this.zoomed);
};

SgFlame.prototype.colorOf = function (i) {
  var c = this.colors[i];
  if (c === undefined) c = this.colors[i] = this.tree.color(i);
  return c;
};

SgFlame.prototype.rowsShown = function () {
  return Math.min(this.tree.maxDepth + 1, Math.floor(SgFlame.MAX_HEIGHT / this.rowH));
};

SgFlame.prototype.y = function (depth) {
  return this.icicle ? depth * this.rowH : (this.rowsShown() - 1 - depth) * this.rowH;
};

SgFlame.prototype.draw = function () {
  var t0 = performance.now();
  var tree = this.tree, canvas = this.canvas;
  if (!tree) return;
  var dpr = window.devicePixelRatio || 1;
  var width = canvas.parentNode.clientWidth || 800;
  var shown = this.rowsShown(), height = shown * this.rowH;
  canvas.style.height = height + "px";
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  var ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = "12px system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif";
  ctx.textBaseline = "middle";
  var charW = ctx.measureText("abcdefghijklmnopqrstuvwxyzABCDEF_.").width / 34;
  var z = this.zoomed, x0 = tree.start[z], w0 = tree.total[z] || 1, zd = tree.depth[z];
  var scale = width / w0, rowH = this.rowH, matched = this.matched;
  var rows = [];
  for (var r = 0; r < shown; r++) rows.push([]);
  var stack = [0];
  while (stack.length) {
    var i = stack.pop();
    var fx = (tree.start[i] - x0) * scale, fw = tree.total[i] * scale;
    if (fw < SgFlame.MIN_PX || fx + fw <= 0 || fx >= width || tree.depth[i] >= shown) continue;
    var dx = fx < 0 ? 0 : fx, dw = (fx + fw > width ? width : fx + fw) - dx;
    var d = tree.depth[i], y = this.y(d);
    ctx.globalAlpha = d < zd ? 0.45 : 1;
    ctx.fillStyle = matched && matched[i] ? "#e600e6" : this.colorOf(i);
    ctx.fillRect(dx, y, dw > 1.5 ? dw - 0.5 : dw, rowH - 1);
    if (dw > 24) {
      var label = tree.label(i), chars = Math.floor((dw - 8) / charW);
      if (chars >= 3) {
        if (label.length > chars) label = label.slice(0, chars - 2) + "..";
        ctx.fillStyle = "#000";
        ctx.fillText(label, dx + 4, y + rowH / 2);
      }
    }
    rows[d].push(dx, dw, i);
    // children pushed right to left so that they are drawn (and listed) left to right
    for (var k = tree.lastChild[i]; k >= 0; k = tree.prevSibling[k]) stack.push(k);
  }
  ctx.globalAlpha = 1;
  this.drawn = 0;
  for (r = 0; r < rows.length; r++) this.drawn += rows[r].length / 3;
  this.rows = rows;
  this.width = width;
  this.lastDrawMs = performance.now() - t0;
  if (this.hooks.onDraw) this.hooks.onDraw(this.lastDrawMs);
};

// The frame under a mouse event, -1 when none.
SgFlame.prototype.frameAt = function (e) {
  var rect = this.canvas.getBoundingClientRect();
  return this.frameAtXY(e.clientX - rect.left, e.clientY - rect.top);
};

SgFlame.prototype.frameAtXY = function (x, y) {
  if (!this.tree) return -1;
  var row = Math.floor(y / this.rowH);
  var d = this.icicle ? row : this.rowsShown() - 1 - row;
  var boxes = this.rows[d];
  if (!boxes) return -1;
  var lo = 0, hi = boxes.length / 3 - 1;
  while (lo <= hi) {
    var mid = (lo + hi) >> 1, bx = boxes[mid * 3], bw = boxes[mid * 3 + 1];
    if (x < bx) hi = mid - 1;
    else if (x >= bx + bw) lo = mid + 1;
    else return boxes[mid * 3 + 2];
  }
  return -1;
};

// The drawn box of frame i in viewport coordinates, or null when it is not drawn.
SgFlame.prototype.boxOf = function (i) {
  if (!this.tree || i < 0) return null;
  var boxes = this.rows[this.tree.depth[i]] || [];
  var rect = this.canvas.getBoundingClientRect();
  for (var k = 0; k < boxes.length; k += 3) {
    if (boxes[k + 2] === i)
      return { x: rect.left + boxes[k], y: rect.top + this.y(this.tree.depth[i]), w: boxes[k + 1], h: this.rowH - 1 };
  }
  return null;
};

SgFlame.prototype.hover = function (e) {
  var i = this.frameAt(e);
  if (i < 0) { this.hideTip(); return; }
  var lines = this.tree.describe(i), tip = this.tip;
  tip.textContent = "";
  for (var k = 0; k < lines.length; k++) {
    var el = document.createElement(k === 0 ? "b" : "div");
    el.textContent = lines[k];
    tip.appendChild(el);
  }
  tip.hidden = false;
  var box = this.canvas.parentNode.getBoundingClientRect();
  var x = e.clientX - box.left + 14, y = e.clientY - box.top + 14;
  if (x + tip.offsetWidth > box.width) x = Math.max(0, e.clientX - box.left - tip.offsetWidth - 10);
  tip.style.left = x + "px";
  tip.style.top = y + "px";
  if (this.hooks.onHover) this.hooks.onHover(i, lines);
};

SgFlame.prototype.hideTip = function () {
  this.tip.hidden = true;
  if (this.hooks.onHover) this.hooks.onHover(-1, null);
};
