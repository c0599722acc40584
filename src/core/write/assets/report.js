// spyglass HTML report: reads the profile embedded as JSON (see write_html.c for the
// layout), aggregates it for the chosen threads and view, and renders the flame graph,
// the call tree, the hottest functions and lines, and annotated source.
//
// Every string from the profile is data: it reaches the page only through textContent,
// option.text, fillText or attribute values, never through innerHTML.
(function () {
  "use strict";
  var T0 = performance.now();
  var D = JSON.parse(document.getElementById("sg-data").textContent);
  var T_PARSE = performance.now();

  var FUNC = 0, THREAD = 1, PROC = 2, PARTIAL = 3, ROOT = 4;
  var ONCPU = 1, GIL = 2, PARTIAL_FLAG = 8;
  var meta = D.meta, S = D.strings, FN = D.functions, LOC = D.locations;
  var sampled = meta.mode === "sample";
  var hasAux = meta.aux !== null && meta.aux !== undefined;
  var stride = hasAux ? 4 : 3;
  var nFuncs = FN.length / 3, nLocs = LOC.length / 2;
  var nTracks = D.tracks.length, nProcs = D.processes.length;
  var secPerUnit = meta.sec_per_unit || 0;
  var attrs = {};
  D.attrs.forEach(function (kv) { attrs[kv[0]] = kv[1]; });

  // ---- the model: trie nodes, lines ----
  // "nodes" is a stream: a location alone (its parent is the node before it) or
  // -(distance to the parent) then the location
  var N = 1, NS = D.nodes;
  for (var i = 0; i < NS.length; i++) if (NS[i] >= 0) N++;
  var parent = new Int32Array(N), nodeLoc = new Int32Array(N), nodeFunc = new Int32Array(N);
  parent[0] = -1; nodeLoc[0] = -1; nodeFunc[0] = -1;
  for (var k = 0, n = 1; k < NS.length; n++) {
    var up = 1;
    if (NS[k] < 0) up = -NS[k++];
    parent[n] = n - up;
    nodeLoc[n] = NS[k++];
    nodeFunc[n] = LOC[2 * nodeLoc[n]];
  }
  // The trie merged by function along each path (the flame graph's frames before any
  // thread level). Parents come first in depth-first order; a merged node's children
  // are searched in a short list, or in a Map once there are many of them.
  var NF = 1, fparent = new Int32Array(N), ffunc = new Int32Array(N), nodeF = new Int32Array(N);
  var fFirst = new Int32Array(N).fill(-1), fNext = new Int32Array(N).fill(-1), fKids = new Int32Array(N);
  var fMaps = new Map();
  fparent[0] = -1; ffunc[0] = -1;
  for (n = 1; n < N; n++) {
    var upf = nodeF[parent[n]], fn = nodeFunc[n], found = -1, mp;
    if (fKids[upf] > 16) {
      var hit = fMaps.get(upf).get(fn);
      if (hit !== undefined) found = hit;
    } else {
      for (var c = fFirst[upf]; c >= 0; c = fNext[c]) if (ffunc[c] === fn) { found = c; break; }
    }
    if (found < 0) {
      found = NF++;
      fparent[found] = upf; ffunc[found] = fn;
      fNext[found] = fFirst[upf]; fFirst[upf] = found;
      if (++fKids[upf] === 17) {
        mp = new Map();
        for (c = fFirst[upf]; c >= 0; c = fNext[c]) mp.set(ffunc[c], c);
        fMaps.set(upf, mp);
      } else if (fKids[upf] > 17) {
        fMaps.get(upf).set(fn, found);
      }
    }
    nodeF[n] = found;
  }
  fFirst = fNext = fKids = fMaps = null;
  var locLine = new Int32Array(nLocs), lineFile = [], lineNo = [], lineFunc = [];
  var lineIndex = new Map();
  for (var l = 0; l < nLocs; l++) {
    var f = LOC[2 * l], file = FN[3 * f + 1], ln = LOC[2 * l + 1];
    var key = file + ":" + ln, id = lineIndex.get(key);
    if (id === undefined) {
      id = lineFile.length;
      lineIndex.set(key, id);
      lineFile.push(file); lineNo.push(ln); lineFunc.push(f);
    }
    locLine[l] = id;
  }
  var nLines = lineFile.length;
  var sources = new Map();
  D.sources.forEach(function (s) { sources.set(s[0], s[1]); });

  function fname(f) { return S[FN[3 * f]] || "<unknown>"; }
  function ffile(f) { return S[FN[3 * f + 1]]; }
  function trackLabel(t) {
    var tr = D.tracks[t], name = S[tr[2]];
    return "thread " + (name ? name + " " : "") + "(" + tr[1] + ")";
  }
  function isSyspath(path) {
    return path.indexOf("<frozen ") === 0 || path.indexOf("/lib/python3.") >= 0 ||
      path.indexOf("/lib64/python3.") >= 0 || path.indexOf("/site-packages/") >= 0 ||
      path.indexOf("/dist-packages/") >= 0;
  }

  // ---- formatting ----
  function fmtInt(v) { return Math.round(v).toLocaleString("en-US"); }
  function fmtTime(s) {
    if (!isFinite(s)) return "-";
    var a = Math.abs(s);
    if (a >= 100) return s.toFixed(1) + " s";
    if (a >= 1) return s.toFixed(3) + " s";
    if (a >= 1e-3) return (s * 1e3).toFixed(2) + " ms";
    if (a === 0) return "0 s";
    return (s * 1e6).toFixed(1) + " \u00b5s";
  }
  function secs(v) { return secPerUnit > 0 ? fmtTime(v * secPerUnit) : "-"; }
  // the main value: samples for sampled profiles, time for traced ones
  function fmtValue(v) { return sampled ? fmtInt(v) : secs(v); }
  function pct(v, whole) { return whole > 0 ? (100 * v / whole).toFixed(1) + "%" : "0.0%"; }
  var valueName = sampled ? "samples" : "time";
  var auxName = hasAux ? meta.aux : "";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function $(id) { return document.getElementById(id); }

  // ---- state ----
  var state = {
    tracks: [], view: meta.view === "auto" ? "wall" : meta.view, group: true,
    search: "", re: null, tab: "flame", icicle: !!meta.icicle
  };
  for (var t = 0; t < nTracks; t++) state.tracks.push(t);

  function viewOk(flags) {
    if (!sampled) return true;
    if (state.view === "cpu") return (flags & ONCPU) !== 0;
    if (state.view === "gil") return (flags & GIL) !== 0;
    return true;
  }

  // ---- aggregation for the selection ----
  var A = null; // the current aggregate

  function aggregate() {
    var t0 = performance.now();
    var flame = buildFlame();
    A = { grand: flame.total[0], flame: flame, stats: false };
    A.ms = { flame: performance.now() - t0, parts: flame.ms };
  }

  // Per function and per line self and total (the tables, the source): computed when
  // first needed, so the flame graph appears without waiting for them.
  function ensureStats() {
    if (A.stats) return;
    var t0 = performance.now();
    var selfV = new Float64Array(N), selfA = hasAux ? new Float64Array(N) : null;
    state.tracks.forEach(function (t) {
      var recs = D.records[t] || [];
      for (var k = 0; k < recs.length; k += stride) {
        if (!viewOk(recs[k + 1])) continue;
        selfV[recs[k]] += recs[k + 2];
        if (selfA) selfA[recs[k]] += recs[k + 3];
      }
    });
    var fSelf = new Float64Array(nFuncs), fTotal = new Float64Array(nFuncs), fAux = new Float64Array(nFuncs);
    var lSelf = new Float64Array(nLines), lTotal = new Float64Array(nLines), lAux = new Float64Array(nLines);
    var fStamp = new Int32Array(nFuncs).fill(-1), lStamp = new Int32Array(nLines).fill(-1);
    // a total counts each stack once, however often the function (line) recurs in it
    for (var n = 1; n < N; n++) {
      var v = selfV[n], a = selfA ? selfA[n] : 0;
      if (!v && !a) continue;
      var li = locLine[nodeLoc[n]];
      fSelf[nodeFunc[n]] += v; fAux[nodeFunc[n]] += a;
      lSelf[li] += v; lAux[li] += a;
      if (!v) continue;
      for (var m = n; m > 0; m = parent[m]) {
        var f = nodeFunc[m], lm = locLine[nodeLoc[m]];
        if (fStamp[f] !== n) { fStamp[f] = n; fTotal[f] += v; }
        if (lStamp[lm] !== n) { lStamp[lm] = n; lTotal[lm] += v; }
      }
    }
    A.fSelf = fSelf; A.fTotal = fTotal; A.fAux = fAux;
    A.lSelf = lSelf; A.lTotal = lTotal; A.lAux = lAux;
    A.stats = true;
    A.ms.stats = performance.now() - t0;
  }

  // Growable typed columns for the flame tree: a million frames must not mean a
  // million small objects.
  function Frames(cap) {
    this.n = 0;
    this.cap = cap;
    this.parent = new Int32Array(cap); this.kind = new Int8Array(cap); this.id = new Int32Array(cap);
    this.depth = new Int32Array(cap); this.self = new Float64Array(cap); this.aux = new Float64Array(cap);
  }
  Frames.prototype.add = function (p, kind, id) {
    if (this.n >= this.cap) {
      var cap = this.cap * 2, names = ["parent", "kind", "id", "depth", "self", "aux"];
      for (var k = 0; k < names.length; k++) {
        var old = this[names[k]], a = new old.constructor(cap);
        a.set(old);
        this[names[k]] = a;
      }
      this.cap = cap;
    }
    var f = this.n++;
    this.parent[f] = p; this.kind[f] = kind; this.id[f] = id; this.depth[f] = p >= 0 ? this.depth[p] + 1 : 0;
    return f;
  };

  // The flame tree of the selection: the function-merged trie ("fnodes", merged by the
  // writer) under a process level (several processes), a thread level (grouping on)
  // and "[partial]". Within one such context a merged node is one frame, so frames
  // need no hashing: a memo per merged node, valid while its context's records are
  // being added (each context's records are added together).
  function buildFlame() {
    var T_B = performance.now();
    var c = new Frames(Math.max(1024, Math.min(NF * 2, 1 << 22)));
    c.add(-1, ROOT, 0);
    var synthetic = new Map();
    function ctxFrame(p, kind, id) {
      var key = p + ":" + kind + ":" + id, f = synthetic.get(key);
      if (f === undefined) { f = c.add(p, kind, id); synthetic.set(key, f); }
      return f;
    }
    var memoF = new Int32Array(NF), memoC = new Int32Array(NF).fill(-1), path = new Int32Array(NF > 1 ? NF : 1);
    function resolve(ctx, fn) {
      var at = ctx, depth = 0;
      for (var m = fn; m > 0; m = fparent[m]) {
        if (memoC[m] === ctx) { at = memoF[m]; break; }
        path[depth++] = m;
      }
      while (depth > 0) {
        m = path[--depth];
        at = c.add(at, FUNC, ffunc[m]);
        memoC[m] = ctx; memoF[m] = at;
      }
      return at;
    }
    var procs = new Set();
    state.tracks.forEach(function (t) { procs.add(D.tracks[t][0]); });
    var multi = procs.size > 1, passes = [];
    state.tracks.forEach(function (t) {
      var base = 0;
      if (multi) base = ctxFrame(base, PROC, D.tracks[t][0]);
      if (state.group) base = ctxFrame(base, THREAD, t);
      passes.push([base, 0, t], [base, 1, t]);
    });
    passes.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1] || a[2] - b[2]; });
    passes.forEach(function (pass) {
      var recs = D.records[pass[2]] || [], partial = pass[1] === 1, ctx = pass[0];
      for (var k = 0; k < recs.length; k += stride) {
        var flags = recs[k + 1], v = recs[k + 2];
        if (v <= 0 || ((flags & PARTIAL_FLAG) !== 0) !== partial || !viewOk(flags)) continue;
        if (partial && ctx === pass[0]) ctx = ctxFrame(pass[0], PARTIAL, 0);
        var leaf = resolve(ctx, nodeF[recs[k]]);
        c.self[leaf] += v;
        if (hasAux) c.aux[leaf] += recs[k + 3];
      }
    });
    var tb = performance.now();
    var n = c.n, fp = c.parent, total = c.self.slice(0, n), depth = c.depth;
    for (var i = n - 1; i > 0; i--) total[fp[i]] += total[i];
    // children in CSR form, then each list widest first (ties by label)
    var at = new Int32Array(n + 1), kids = new Int32Array(n);
    for (i = 1; i < n; i++) if (total[i] > 0) at[fp[i] + 1]++;
    for (i = 0; i < n; i++) at[i + 1] += at[i];
    var fill = at.slice(0, n);
    for (i = 1; i < n; i++) if (total[i] > 0) kids[fill[fp[i]]++] = i;
    var first = new Int32Array(n).fill(-1), next = new Int32Array(n).fill(-1), start = new Float64Array(n);
    var last = new Int32Array(n).fill(-1), prev = new Int32Array(n).fill(-1);
    var tree = {
      n: n, parent: fp, kind: c.kind, id: c.id, self: c.self, aux: c.aux, total: total, depth: depth,
      start: start, firstChild: first, nextSibling: next, lastChild: last, prevSibling: prev, maxDepth: 0
    };
    tree.label = function (i) { return frameLabel(tree, i); };
    var byTotal = function (a, b) {
      if (total[b] !== total[a]) return total[b] - total[a];
      var la = tree.label(a), lb = tree.label(b);
      return la < lb ? -1 : la > lb ? 1 : a - b;
    };
    var tc = performance.now();
    var maxDepth = 0;
    // a parent always has a smaller id than its children, so its start is known first
    for (i = 0; i < n; i++) {
      if (total[i] <= 0 && i > 0) continue;
      if (depth[i] > maxDepth) maxDepth = depth[i];
      var lo = at[i], hi = at[i + 1];
      if (lo === hi) continue;
      if (hi - lo > 1) kids.subarray(lo, hi).sort(byTotal);
      var x = start[i];
      first[i] = kids[lo];
      last[i] = kids[hi - 1];
      for (var j = lo; j < hi; j++) {
        start[kids[j]] = x;
        x += total[kids[j]];
        next[kids[j]] = j + 1 < hi ? kids[j + 1] : -1;
        prev[kids[j]] = j > lo ? kids[j - 1] : -1;
      }
    }
    tree.maxDepth = maxDepth;
    tree.ms = { build: tb - T_B, csr: tc - tb, sort: performance.now() - tc };
    tree.color = function (i) { return frameColor(tree, i); };
    tree.describe = function (i) { return describe(tree, i); };
    return tree;
  }

  function frameLabel(tree, i) {
    switch (tree.kind[i]) {
      case FUNC: return fname(tree.id[i]);
      case THREAD: return trackLabel(tree.id[i]);
      case PROC: return "process " + D.processes[tree.id[i]][0];
      case PARTIAL: return "[partial]";
      default: return "all";
    }
  }

  function frameWhere(tree, i) {
    if (tree.kind[i] !== FUNC) return "";
    var f = tree.id[i];
    return ffile(f) + ":" + FN[3 * f + 2];
  }

  function hash(s, salt) {
    var h = 2166136261 ^ salt;
    for (var k = 0; k < s.length; k++) { h ^= s.charCodeAt(k); h = Math.imul(h, 16777619); }
    h ^= h >>> 15; h = Math.imul(h, 2246822507); h ^= h >>> 13;
    return (h >>> 0) / 4294967296;
  }

  function frameColor(tree, i) {
    var label = tree.label(i), v1 = hash(label, 1), v2 = hash(label, 2), v3 = hash(label, 3);
    var r, g, b;
    switch (tree.kind[i]) {
      case ROOT: r = 200; g = 200; b = 205; break;
      case THREAD: case PROC: r = 150 + 50 * v1; g = 120 + 40 * v2; b = 200 + 55 * v1; break;
      case PARTIAL: r = g = b = 175 + 30 * v1; break;
      default:
        var file = ffile(tree.id[i]);
        if (label === "[filtered]" || label === "<unknown>") { r = g = b = 170 + 30 * v1; }
        else if (isSyspath(file)) { r = 50 + 60 * v1; g = 165 + 55 * v2; b = 165 + 55 * v2; }
        else { r = 205 + 50 * v3; g = 230 * v1; b = 55 * v2; }
    }
    return "rgb(" + (r | 0) + "," + (g | 0) + "," + (b | 0) + ")";
  }

  function describe(tree, i) {
    var lines = [tree.label(i)], where = frameWhere(tree, i), v = tree.total[i];
    if (where) lines.push(where);
    var grand = tree.total[0];
    if (sampled) {
      lines.push(fmtInt(v) + " samples" + (secPerUnit > 0 ? " (" + secs(v) + ")" : "") + ", " + pct(v, grand) +
        (tree.self[i] ? "; self " + fmtInt(tree.self[i]) + " (" + pct(tree.self[i], grand) + ")" : ""));
    } else {
      lines.push(secs(v) + ", " + pct(v, grand) + (tree.self[i] ? "; self " + secs(tree.self[i]) : ""));
      if (hasAux && tree.kind[i] === FUNC) lines.push(fmtInt(tree.aux[i]) + " " + auxName);
    }
    return lines;
  }

  // ---- search ----
  function makeRegex(term) {
    if (!term) return null;
    try { return new RegExp(term, "i"); }
    catch (e) { return new RegExp(term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i"); }
  }

  function funcMatches(f) {
    return !!state.re && (state.re.test(fname(f)) || state.re.test(ffile(f)));
  }

  // Marks matching frames; returns the share of the total they cover (nested matches once).
  function flameMatches(tree) {
    if (!state.re) return null;
    var matched = new Uint8Array(tree.n), covered = new Uint8Array(tree.n), sum = 0;
    var memo = new Map();
    for (var i = 1; i < tree.n; i++) {
      if (tree.kind[i] === FUNC) {
        var f = tree.id[i], m = memo.get(f);
        if (m === undefined) { m = funcMatches(f); memo.set(f, m); }
        matched[i] = m ? 1 : 0;
      }
      var p = tree.parent[i];
      covered[i] = covered[p] || matched[i];
      if (matched[i] && !covered[p] && tree.total[i] > 0) sum += tree.total[i];
    }
    return { matched: matched, share: tree.total[0] > 0 ? sum / tree.total[0] : 0 };
  }

  // ---- the page ----
  var flame = new SgFlame($("flame"), $("tip"), {
    onZoom: function (z) { $("reset").disabled = z === 0; },
    onHover: function (i, lines) { $("details").textContent = lines ? lines.join("  \u2014  ") : ""; }
  });
  var dirty = {};

  function fillMeta() {
    $("mode").textContent = sampled ? "sampled profile" :
      meta.mode === "lines" ? "traced profile, line level" : "traced profile, function level";
    var dl = $("meta");
    function item(k, v) {
      if (v === undefined || v === null || v === "") return;
      var d = el("div");
      d.appendChild(el("dt", null, k));
      d.appendChild(el("dd", null, String(v)));
      dl.appendChild(d);
    }
    item("command", attrs.command);
    var ok = 0, bad = 0, pys = new Set();
    D.processes.forEach(function (p) { ok += p[3]; bad += p[4]; if (S[p[2]]) pys.add(S[p[2]]); });
    if (attrs.python) pys.add(attrs.python);
    item("Python", Array.from(pys).join(", "));
    item("duration", meta.duration_ns ? fmtTime(meta.duration_ns / 1e9) : "");
    if (sampled) {
      item("rate", meta.rate_hz ? fmtInt(meta.rate_hz) + " Hz" + (meta.interval_ns ? " (mean interval " +
        fmtTime(meta.interval_ns / 1e9) + ")" : "") : "");
      item("clock", meta.clock);
      var all = 0;
      D.records.forEach(function (recs) { for (var k = 0; k < recs.length; k += stride) all += recs[k + 2]; });
      item("samples", fmtInt(all) + (meta.ticks_requested ? " (ticks " + fmtInt(meta.ticks_taken) + " of " +
        fmtInt(meta.ticks_requested) + ")" : ""));
      item("error rate", ok + bad > 0 ? (100 * bad / (ok + bad)).toFixed(2) + "% (" + fmtInt(bad) +
        " of " + fmtInt(ok + bad) + " stack reads)" : "0.00%");
    } else {
      var tot = 0, calls = 0;
      D.records.forEach(function (recs) {
        for (var k = 0; k < recs.length; k += stride) { tot += recs[k + 2]; calls += recs[k + 3] || 0; }
      });
      item("traced time", secs(tot));
      if (hasAux) item(auxName, fmtInt(calls));
    }
    item("processes", nProcs > 1 ? nProcs + " (" + D.processes.map(function (p) { return p[0]; }).join(", ") + ")" :
      nProcs === 1 ? "pid " + D.processes[0][0] : "");
    item("threads", nTracks);
    if (meta.start_wall_ns > 0) item("started", new Date(meta.start_wall_ns / 1e6).toISOString().replace("T", " ").slice(0, 19) + " UTC");
    Object.keys(attrs).forEach(function (k) { if (k !== "command" && k !== "python") item(k, attrs[k]); });
  }

  function trackTotals() {
    var per = new Float64Array(nTracks);
    for (var t = 0; t < nTracks; t++) {
      var recs = D.records[t] || [];
      for (var k = 0; k < recs.length; k += stride) if (viewOk(recs[k + 1])) per[t] += recs[k + 2];
    }
    return per;
  }

  function fillTracks() {
    var sel = $("track"), per = trackTotals(), all = 0, keep = sel.value || "all";
    per.forEach(function (v) { all += v; });
    sel.textContent = "";
    var order = [];
    // threads left without samples (by a filter) are not offered
    for (var t = 0; t < nTracks; t++) if ((D.records[t] || []).length) order.push(t);
    sel.appendChild(new Option("all threads (" + order.length + ")", "all"));
    order.sort(function (a, b) {
      var pa = D.processes[D.tracks[a][0]][0], pb = D.processes[D.tracks[b][0]][0];
      return pa - pb || D.tracks[a][1] - D.tracks[b][1];
    });
    var lastProc = -1;
    order.forEach(function (t) {
      var p = D.tracks[t][0];
      if (nProcs > 1 && p !== lastProc) {
        lastProc = p;
        sel.appendChild(new Option("process " + D.processes[p][0] + ": all threads", "p" + p));
      }
      var main = D.tracks[t][3] ? ", main" : "";
      sel.appendChild(new Option((nProcs > 1 ? "\u2003" : "") + trackLabel(t) + main + " \u2014 " + pct(per[t], all), "t" + t));
    });
    sel.value = keep;
    if (sel.value !== keep) sel.value = "all";
  }

  function selectTracks(v) {
    state.tracks = [];
    for (var t = 0; t < nTracks; t++) {
      if (v === "all" || (v[0] === "p" && D.tracks[t][0] === +v.slice(1)) || (v[0] === "t" && t === +v.slice(1)))
        state.tracks.push(t);
    }
  }

  function refresh() {
    aggregate();
    $("total").textContent = "total: " + (sampled ? fmtInt(A.grand) + " samples" + (secPerUnit > 0 ? " (" + secs(A.grand) + ")" : "") : secs(A.grand));
    flame.icicle = state.icicle;
    var m = flameMatches(A.flame);
    flame.setTree(A.flame, m ? m.matched : null);
    showMatched(m);
    dirty = { tree: true, functions: true, lines: true, source: true };
    renderTab();
  }

  function applySearch() {
    var m = flameMatches(A.flame);
    flame.setMatched(m ? m.matched : null);
    showMatched(m);
  }

  function showMatched(m) {
    $("matched").textContent = m ? "matched: " + (100 * m.share).toFixed(1) + "%" : "";
    A.matchShare = m ? m.share : 0;
  }

  // ---- call tree ----
  var expanded = new Set();

  function expandHot() {
    var tree = A.flame, i = 0;
    expanded = new Set([0]);
    for (var k = tree.firstChild[0]; k >= 0; k = tree.nextSibling[k]) expanded.add(k);
    for (var guard = 0; guard < 200; guard++) {
      var c = tree.firstChild[i];
      if (c < 0 || tree.total[c] < 0.05 * tree.total[0]) break;
      expanded.add(c);
      i = c;
    }
  }

  function renderTree() {
    var box = $("tree"), tree = A.flame, grand = tree.total[0];
    box.textContent = "";
    var head = el("div", "row head");
    head.appendChild(el("span", "tog", ""));
    head.appendChild(el("span", "num", "total"));
    head.appendChild(el("span", "num", "self"));
    head.appendChild(el("span", "num", sampled ? "samples" : "time"));
    if (hasAux) head.appendChild(el("span", "num", auxName));
    head.appendChild(el("span", "name", "function"));
    box.appendChild(head);
    var rows = 0;
    function row(i, depth) {
      var r = el("div", "row");
      var hasKids = tree.firstChild[i] >= 0, open = expanded.has(i);
      var tog = el("span", "tog", hasKids ? (open ? "\u25be" : "\u25b8") : "");
      tog.style.marginLeft = (depth * 14) + "px";
      r.appendChild(tog);
      r.appendChild(el("span", "num", pct(tree.total[i], grand)));
      r.appendChild(el("span", "num", pct(tree.self[i], grand)));
      r.appendChild(el("span", "num", fmtValue(tree.total[i])));
      if (hasAux) r.appendChild(el("span", "num", tree.kind[i] === FUNC ? fmtInt(tree.aux[i]) : ""));
      r.appendChild(el("span", "name", tree.label(i)));
      var where = frameWhere(tree, i);
      if (where) r.appendChild(el("span", "where", where));
      if (tree.kind[i] === FUNC && funcMatches(tree.id[i])) r.classList.add("match");
      r.dataset.frame = i;
      box.appendChild(r);
      rows++;
      if (!open) return;
      var shown = 0;
      for (var k = tree.firstChild[i]; k >= 0; k = tree.nextSibling[k]) {
        if (shown++ >= 200 || rows > 5000) {
          var more = el("div", "row note", "\u2026 more frames not shown");
          more.style.paddingLeft = ((depth + 1) * 14 + 14) + "px";
          box.appendChild(more);
          break;
        }
        row(k, depth + 1);
      }
    }
    row(0, 0);
  }

  $("tree").addEventListener("click", function (e) {
    var r = e.target.closest(".row");
    if (!r || r.dataset.frame === undefined) return;
    var i = +r.dataset.frame;
    if (expanded.has(i)) expanded.delete(i); else expanded.add(i);
    renderTree();
  });
  $("expand").addEventListener("click", function () { expandHot(); renderTree(); });
  $("collapse").addEventListener("click", function () { expanded = new Set(); renderTree(); });

  // ---- tables ----
  var MAX_ROWS = 500;
  var sorts = { functions: { col: "self", asc: false }, lines: { col: "self", asc: false } };

  function table(name, ids, cols, onRow) {
    var tab = $(name), s = sorts[name];
    var col = cols.filter(function (c) { return c.key === s.col; })[0] || cols[0];
    ids.sort(function (a, b) {
      var x = col.get(a), y = col.get(b), c = x < y ? -1 : x > y ? 1 : 0;
      return (s.asc ? c : -c) || a - b;
    });
    tab.textContent = "";
    var thead = el("thead"), tr = el("tr");
    cols.forEach(function (c) {
      var th = el("th", (c.text ? "t" : "") + (c.key === col.key ? " sorted" + (s.asc ? " asc" : "") : ""), c.title);
      th.addEventListener("click", function () {
        if (s.col === c.key) s.asc = !s.asc; else { s.col = c.key; s.asc = !!c.text; }
        dirty[name] = true;
        renderTab();
      });
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    tab.appendChild(thead);
    var tbody = el("tbody");
    for (var k = 0; k < ids.length && k < MAX_ROWS; k++) {
      var id = ids[k], row = el("tr");
      cols.forEach(function (c) { row.appendChild(el("td", c.text ? (c.code ? "t code" : "t") : "", c.fmt(id))); });
      if (onRow && onRow(id, row)) row.className = "link";
      tbody.appendChild(row);
    }
    tab.appendChild(tbody);
    $(name + "-note").textContent = ids.length > MAX_ROWS ? "showing " + MAX_ROWS + " of " + fmtInt(ids.length) + " rows" :
      ids.length ? "" : "nothing to show";
  }

  function valueCols(self, total, aux) {
    var grand = A.grand, cols = [
      { key: "self", title: "self %", get: function (i) { return self[i]; }, fmt: function (i) { return pct(self[i], grand); } },
      { key: "selfv", title: "self " + valueName, get: function (i) { return self[i]; }, fmt: function (i) { return fmtValue(self[i]); } },
      { key: "total", title: "total %", get: function (i) { return total[i]; }, fmt: function (i) { return pct(total[i], grand); } },
      { key: "totalv", title: "total " + valueName, get: function (i) { return total[i]; }, fmt: function (i) { return fmtValue(total[i]); } }
    ];
    if (sampled && secPerUnit > 0)
      cols.splice(2, 0, { key: "selfs", title: "self time", get: function (i) { return self[i]; }, fmt: function (i) { return secs(self[i]); } });
    if (hasAux) {
      cols.push({ key: "aux", title: auxName, get: function (i) { return aux[i]; }, fmt: function (i) { return fmtInt(aux[i]); } });
      cols.push({ key: "per", title: "total per " + auxName.replace(/s$/, ""),
                  get: function (i) { return aux[i] ? total[i] / aux[i] : 0; },
                  fmt: function (i) { return aux[i] ? secs(total[i] / aux[i]) : "-"; } });
    }
    return cols;
  }

  function renderFunctions() {
    ensureStats();
    var ids = [];
    for (var f = 0; f < nFuncs; f++)
      if ((A.fTotal[f] || A.fSelf[f] || A.fAux[f]) && (!state.re || funcMatches(f))) ids.push(f);
    var cols = valueCols(A.fSelf, A.fTotal, A.fAux).concat([
      { key: "name", title: "function", text: true, get: fname, fmt: fname },
      { key: "file", title: "file:line", text: true, get: function (f) { return ffile(f) + ":" + FN[3 * f + 2]; },
        fmt: function (f) { return ffile(f) + ":" + FN[3 * f + 2]; } }
    ]);
    table("functions", ids, cols, function (f, row) {
      if (!sources.has(FN[3 * f + 1])) return false;
      row.addEventListener("click", function () { showSource(FN[3 * f + 1], FN[3 * f + 2]); });
      return true;
    });
  }

  function sourceLine(file, line) {
    var src = sources.get(file);
    return src && line >= 1 && line <= src.length ? src[line - 1].trim() : "";
  }

  function renderLines() {
    ensureStats();
    var ids = [];
    for (var li = 0; li < nLines; li++)
      if ((A.lTotal[li] || A.lSelf[li] || A.lAux[li]) &&
          (!state.re || state.re.test(S[lineFile[li]]) || state.re.test(fname(lineFunc[li])))) ids.push(li);
    var cols = valueCols(A.lSelf, A.lTotal, A.lAux).concat([
      { key: "where", title: "file:line", text: true, get: function (i) { return S[lineFile[i]] + ":" + lineNo[i]; },
        fmt: function (i) { return S[lineFile[i]] + ":" + lineNo[i]; } },
      { key: "name", title: "function", text: true, get: function (i) { return fname(lineFunc[i]); },
        fmt: function (i) { return fname(lineFunc[i]); } },
      { key: "code", title: "code", text: true, code: true, get: function (i) { return sourceLine(lineFile[i], lineNo[i]); },
        fmt: function (i) { return sourceLine(lineFile[i], lineNo[i]); } }
    ]);
    table("lines", ids, cols, function (i, row) {
      if (!sources.has(lineFile[i])) return false;
      row.addEventListener("click", function () { showSource(lineFile[i], lineNo[i]); });
      return true;
    });
  }

  // ---- annotated source ----
  var sourceTarget = null;

  function fileHeat() {
    var heat = new Map();
    for (var li = 0; li < nLines; li++) {
      if (!sources.has(lineFile[li])) continue;
      heat.set(lineFile[li], (heat.get(lineFile[li]) || 0) + A.lSelf[li]);
    }
    return heat;
  }

  function renderSource() {
    ensureStats();
    var sel = $("file"), heat = fileHeat(), keep = sourceTarget ? String(sourceTarget.file) : sel.value;
    var files = Array.from(sources.keys());
    files.sort(function (a, b) { return (heat.get(b) || 0) - (heat.get(a) || 0) || a - b; });
    sel.textContent = "";
    files.forEach(function (f) { sel.appendChild(new Option(S[f] + " \u2014 self " + pct(heat.get(f) || 0, A.grand), String(f))); });
    if (!files.length) {
      $("file-note").textContent = "no source file could be read when the report was written";
      $("source").textContent = "";
      return;
    }
    sel.value = keep;
    if (!keep || !sources.has(+sel.value)) sel.value = String(files[0]);
    var file = +sel.value, src = sources.get(file), box = $("source");
    var tot = new Float64Array(src.length + 2), self = new Float64Array(src.length + 2), max = 0;
    for (var li = 0; li < nLines; li++) {
      if (lineFile[li] !== file || lineNo[li] < 1 || lineNo[li] > src.length) continue;
      tot[lineNo[li]] += A.lTotal[li];
      self[lineNo[li]] += A.lSelf[li];
      if (tot[lineNo[li]] > max) max = tot[lineNo[li]];
    }
    $("file-note").textContent = "per line: total (including the functions it called) and self, as % of " + pct(A.grand, A.grand);
    box.textContent = "";
    var head = el("div", "src");
    head.appendChild(el("span", "ln", "line"));
    head.appendChild(el("span", "v", "total"));
    head.appendChild(el("span", "v", "self"));
    head.appendChild(el("span", "code", "source"));
    box.appendChild(head);
    var target = null, frag = document.createDocumentFragment();
    for (var n = 1; n <= src.length; n++) {
      var r = el("div", "src");
      r.appendChild(el("span", "ln", String(n)));
      var tv = el("span", "v", tot[n] ? pct(tot[n], A.grand) : ""), sv = el("span", "v", self[n] ? pct(self[n], A.grand) : "");
      if (tot[n] && max > 0) {
        r.classList.add("hot");
        tv.style.background = "rgba(255,80,0," + (0.08 + 0.6 * tot[n] / max).toFixed(3) + ")";
        if (self[n]) sv.style.background = "rgba(255,80,0," + (0.08 + 0.6 * self[n] / max).toFixed(3) + ")";
      }
      r.appendChild(tv);
      r.appendChild(sv);
      r.appendChild(el("span", "code", src[n - 1] || " "));
      if (sourceTarget && sourceTarget.file === file && sourceTarget.line === n) { r.classList.add("target"); target = r; }
      frag.appendChild(r);
    }
    box.appendChild(frag);
    if (target) target.scrollIntoView({ block: "center" });
    sourceTarget = null;
  }

  function showSource(file, line) {
    sourceTarget = { file: file, line: line };
    dirty.source = true;
    setTab("source");
  }

  $("file").addEventListener("change", function () { dirty.source = true; renderTab(); });

  // ---- tabs and controls ----
  function renderTab() {
    if (!dirty[state.tab]) return;
    dirty[state.tab] = false;
    if (state.tab === "tree") { if (!expanded.size) expandHot(); renderTree(); }
    else if (state.tab === "functions") renderFunctions();
    else if (state.tab === "lines") renderLines();
    else if (state.tab === "source") renderSource();
  }

  function setTab(name) {
    state.tab = name;
    Array.prototype.forEach.call(document.querySelectorAll("#tabs button"), function (b) {
      b.classList.toggle("on", b.dataset.tab === name);
    });
    Array.prototype.forEach.call(document.querySelectorAll(".tab"), function (s) {
      s.classList.toggle("on", s.id === "tab-" + name);
    });
    if (name === "flame") flame.draw();
    renderTab();
  }

  Array.prototype.forEach.call(document.querySelectorAll("#tabs button"), function (b) {
    b.addEventListener("click", function () { setTab(b.dataset.tab); });
  });
  $("track").addEventListener("change", function (e) { selectTracks(e.target.value); expanded = new Set(); refresh(); });
  $("view").addEventListener("change", function (e) { state.view = e.target.value; fillTracks(); expanded = new Set(); refresh(); });
  $("group").addEventListener("change", function (e) { state.group = e.target.checked; expanded = new Set(); refresh(); });
  $("flip").addEventListener("click", function () {
    state.icicle = !state.icicle;
    $("flip").textContent = state.icicle ? "Flame graph" : "Icicle";
    flame.setIcicle(state.icicle);
  });
  $("reset").addEventListener("click", function () { flame.zoom(0); });
  var searchTimer = 0;
  $("search").addEventListener("input", function (e) {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      state.search = e.target.value;
      state.re = makeRegex(state.search);
      applySearch();
      dirty = { tree: true, functions: true, lines: true, source: false };
      renderTab();
    }, 120);
  });
  window.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && (e.key === "f" || e.key === "F") && state.tab === "flame") {
      e.preventDefault();
      $("search").focus();
    } else if (e.key === "Escape") {
      flame.zoom(0);
    }
  });

  // ---- start ----
  if (!sampled) $("view-box").hidden = true;
  else $("view").value = state.view;
  $("flip").textContent = state.icicle ? "Flame graph" : "Icicle";
  fillMeta();
  fillTracks();
  var T_MODEL = performance.now();
  refresh();
  var T_FIRST = performance.now();

  // for tests and for the curious: timings and a handle on the parts
  window.sgReport = {
    ready: true,
    timing: { parse: T_PARSE - T0, model: T_MODEL - T_PARSE, render: T_FIRST - T_MODEL, first: T_FIRST },
    flame: flame,
    state: state,
    total: function () { return A.grand; },
    get A() { return A.ms; },
    frame: function (label) {
      var tree = A.flame;
      for (var i = 0; i < tree.n; i++) if (tree.total[i] > 0 && tree.label(i) === label) return i;
      return -1;
    },
    setTab: setTab
  };
})();
