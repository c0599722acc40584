"""From the raw runs to figures: per workload and mode, medians and ranges of ratios
against the unprofiled run of the same round; then the Markdown tables and the check
against the project's targets. Only ratios are shown: the machine is shared and noisy."""
import re
import statistics

RATIO_TOLERANCE = 0.10  # a thread split is "right" within +-10% of each true ratio


def _median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def _shares(parts):
    s = sum(parts.values())
    return {k: (v / s if s else 0.0) for k, v in parts.items()}


def _error_pp(measured, truth):
    """Largest difference in percentage points between measured and true shares."""
    if len(truth) < 2 or not sum(measured.values()):
        return None
    m, t = _shares(measured), _shares(truth)
    return 100.0 * max(abs(m[k] - t[k]) for k in t)


def _split(measured, truth):
    """(ratios to the smallest true part, true ratios, right?) for CPU-time truths."""
    if len(truth) < 2 or not sum(measured.values()):
        return None
    order = sorted(truth, key=lambda k: truth[k])
    ref = order[0]
    if not measured.get(ref) or not truth[ref]:
        return {"order": order, "ratios": None, "true": None, "right": False}
    ratios = [measured[k] / measured[ref] for k in order]
    true = [truth[k] / truth[ref] for k in order]
    right = all(abs(r / t - 1) <= RATIO_TOLERANCE for r, t in zip(ratios, true))
    return {"order": order, "ratios": ratios, "true": true, "right": right}


def summarize(results):
    runs = results["runs"]
    base = {(r["workload"], r["round"]): r for r in runs if r["mode"] == "base" and r["ok"]}
    summary = {}
    for wl, plan in results["plan"].items():
        wsum = {}
        bases = [r for r in runs if r["workload"] == wl and r["mode"] == "base"]
        truth = {}
        for b in bases:
            if b["ok"]:
                for k, v in _shares(b["truth_parts"]).items():
                    truth.setdefault(k, []).append(v)
        wsum["base"] = {
            "runs": len(bases), "failed": sum(not b["ok"] for b in bases),
            "work": _median([b.get("work") for b in bases if b["ok"]]),
            "truth_shares": {k: _median(v) for k, v in truth.items()},
            "truth_kind": next((b["truth_kind"] for b in bases if b["ok"]), None),
            "errors": sorted({b["error"] for b in bases if not b["ok"]}),
        }
        for mid in plan["modes"]:
            if mid in results.get("unavailable", {}):
                wsum[mid] = {"unavailable": results["unavailable"][mid]}
                continue
            mine = [r for r in runs if r["workload"] == wl and r["mode"] == mid]
            s = {"runs": len(mine), "failed": sum(not r["ok"] for r in mine),
                 "errors": sorted({r["error"] for r in mine if not r["ok"]})}
            slow, cpu_ratio, acc, acc_base, mem, splits, seen = [], [], [], [], [], {}, []
            pooled_measured, pooled_truth = {}, {}
            for r in mine:
                b = base.get((wl, r["round"]))
                if not r["ok"] or b is None:
                    continue
                slow.append(r["work"] / b["work"])
                if b["target_cpu"]:
                    own = r["target_cpu"] - _in_target(results, mid, r, b)
                    cpu_ratio.append(own / b["target_cpu"])
                kind = b["truth_kind"]
                measured = r["measured"]
                if kind == "cpu" and "measured_cpu" in r:
                    measured = r["measured_cpu"]
                # in-run truth: what happened in the run the profile describes (robust on a
                # loaded machine); vs unprofiled: also shows a tracer's distortion of the split
                acc.append(_error_pp(measured, r["truth_parts"]))
                acc_base.append(_error_pp(measured, b["truth_parts"]))
                # every round's samples against every round's truth: a run of about a
                # second has a sampling error near 2 pp on its own (binomial), which
                # pooling shrinks while a bias of the profiler stays
                shares_m = _shares(measured) if sum(measured.values()) else {}
                for k, v in shares_m.items():
                    pooled_measured[k] = pooled_measured.get(k, 0.0) + v * r["work"]
                for k, v in _shares(r["truth_parts"]).items():
                    pooled_truth[k] = pooled_truth.get(k, 0.0) + v * r["work"]
                seen.append(bool(sum(measured.values())))
                if kind == "cpu":
                    views = [("", measured)]
                    if "measured_gil" in r:
                        views.append(("gil", r["measured_gil"]))
                    for vname, vals in views:
                        sp = _split(vals, r["truth_parts"])
                        if sp:
                            splits.setdefault(vname, []).append(sp)
                if _where(results, mid) == "outside" and not r.get("same_process"):
                    mem.append(r["hwm_kb"] / 1024)
                else:
                    mem.append((r["target_maxrss_kb"] - b["target_maxrss_kb"]) / 1024)
            ok = [r for r in mine if r["ok"]]
            per_sample, prof_cpu, in_target = [], [], []
            for r in ok:
                extra = _in_target(results, mid, r, base.get((wl, r["round"])))
                if r.get("profiler_cpu_share") is not None:
                    prof_cpu.append(r["profiler_cpu_share"] + extra / r["wall"])
                    in_target.append(extra)
                n = r.get("samples_taken")
                if not n:
                    continue
                if r.get("sampler_cpu_share") is not None and r.get("sampling_seconds"):
                    per_sample.append(r["sampler_cpu_share"] * r["sampling_seconds"] / n)
                elif r.get("profiler_cpu_share") is not None:
                    per_sample.append((max(0.0, r["tree_cpu"] - r["target_cpu"]) + extra) / n)
            taken = sum(r.get("samples_taken") or 0 for r in ok if r.get("samples_requested"))
            req = sum(r.get("samples_requested") or 0 for r in ok)
            secs = sum(r.get("sampling_seconds") or 0 for r in ok if r.get("samples_requested"))
            s.update(
                slowdown=_median(slow), slowdown_min=min(slow) if slow else None,
                slowdown_max=max(slow) if slow else None, cpu_ratio=_median(cpu_ratio),
                samples_share=(taken / req if req else None),
                samples_per_second=(taken / secs if secs else None),
                profiler_cpu=_median(prof_cpu),
                profiler_cpu_in_target=_median(in_target),
                sampler_cpu=_median([r.get("sampler_cpu_share") for r in ok]),
                # CPU per sample taken (spyglass: its sampler thread; others: the whole
                # profiler process, start-up included): barely moved by a loaded machine
                cpu_per_sample_us=(1e6 * _median(per_sample) if per_sample else None),
                error_pp=_median(acc), error_pp_max=max([a for a in acc if a is not None],
                                                        default=None),
                error_pp_unprofiled=_median(acc_base),
                error_pp_pooled=(_error_pp(pooled_measured, pooled_truth)
                                 if pooled_measured else None),
                parts_seen=any(seen),
                memory_mb=_median(mem), memory_kind=_where(results, mid),
                error_rate=_median([r.get("error_rate") for r in ok]),
                measured_view=("cpu" if wsum["base"]["truth_kind"] == "cpu" and
                               any("measured_cpu" in r for r in ok) else "default"),
            )
            for vname, sps in splits.items():
                ratios = [sp["ratios"] for sp in sps if sp["ratios"]]
                med = [statistics.median(col) for col in zip(*ratios)] if ratios else None
                trues = [sp["true"] for sp in sps if sp["true"]]
                true = [statistics.median(col) for col in zip(*trues)]
                right = med is not None and all(
                    abs(m / t - 1) <= RATIO_TOLERANCE for m, t in zip(med, true))
                s["split" + ("_" + vname if vname else "")] = {
                    "order": sps[0]["order"], "ratios": med, "true": true, "right": right}
            wsum[mid] = s
        summary[wl] = wsum
    summary["_targets"] = targets(summary)
    return summary


def _where(results, mid):
    return results.get("where", {}).get(mid)


def _in_target(results, mid, r, b):
    """Seconds of CPU a profiler whose mode has a prelude (Tachyon's _sync_coordinator)
    made the target process spend before the workload's code began: the target's CPU at
    that point against the unprofiled run's of the same round. It belongs to the
    profiler's CPU, not the target's. 0 for every other mode (there the difference is
    start-up noise, a few ms either way) and where a figure is missing (older results)."""
    if mid not in results.get("prelude", ()) or b is None or r.get("same_process"):
        return 0.0
    if r.get("target_cpu_start") is None or b.get("target_cpu_start") is None:
        return 0.0
    return r["target_cpu_start"] - b["target_cpu_start"]


# ---- the project's targets --------------------------------------------------------------

def _get(summary, wl, mid, key):
    return summary.get(wl, {}).get(mid, {}).get(key)


def targets(summary):
    """Each target: what was measured, whether it is met, and by how much it is missed."""
    out = []

    def add(name, value, ok, detail):
        out.append({"target": name, "measured": value, "met": ok, "detail": detail})

    # 1 kHz: slowdown and samples, over every workload spyglass-1k ran
    slows = {wl: s["spyglass-1k"]["slowdown"] for wl, s in summary.items()
             if not wl.startswith("_") and s.get("spyglass-1k", {}).get("slowdown")}
    if slows:
        worst = max(slows, key=slows.get)
        med = statistics.median(slows.values())
        add("1 kHz: slowdown <= 1.02x", f"median {med:.3f}x over {len(slows)} workloads, "
            f"worst {slows[worst]:.3f}x ({worst})", med <= 1.02,
            "median of the per-workload medians")
    shares = {wl: s["spyglass-1k"]["samples_share"] for wl, s in summary.items()
              if not wl.startswith("_") and s.get("spyglass-1k", {}).get("samples_share")}
    if shares:
        worst = min(shares, key=shares.get)
        add("1 kHz: >= 99% of requested samples",
            f"worst {100 * shares[worst]:.1f}% ({worst})", shares[worst] >= 0.99, "")
    d = summary.get("deep_threads", {}).get("spyglass-10k", {})
    if d.get("slowdown"):
        add("10 kHz, 8 threads x 50 frames: slowdown <= 1.05x", f"{d['slowdown']:.3f}x",
            d["slowdown"] <= 1.05, "")
    if d.get("samples_share") is not None:
        add("10 kHz, 8 threads x 50 frames: >= 95% of samples",
            f"{100 * d['samples_share']:.1f}%", d["samples_share"] >= 0.95, "")
    if d.get("profiler_cpu") is not None:
        add("10 kHz, 8 threads x 50 frames: profiler CPU <= 10% of a core",
            f"{100 * d['profiler_cpu']:.1f}% (sampler thread "
            f"{100 * (d.get('sampler_cpu') or 0):.1f}%)", d["profiler_cpu"] <= 0.10,
            "profiler CPU = spyglass process tree minus the target")
    us = d.get("cpu_per_sample_us")
    if us:
        add("10 kHz, 8 threads x 50 frames: sampler CPU per tick (<= 10 us for 10% at 10 kHz)",
            f"{us:.0f} µs per tick: {us / 1e6 * 1e4 * 100:.0f}% of a core at a full 10 kHz",
            us <= 10, "load-independent view of the same target")
    d = summary.get("deep_stack", {}).get("spyglass-200k", {})
    if d.get("samples_per_second"):
        add("highest rate (asked 200 kHz, 20 frames): >= 100k samples/s",
            f"{d['samples_per_second'] / 1000:.1f}k samples/s at "
            f"{100 * (d.get('profiler_cpu') or 0):.0f}% of a core",
            d["samples_per_second"] >= 100_000, "")
    us = d.get("cpu_per_sample_us")
    if us:
        add("highest rate: sampler CPU per tick (<= 10 us for 100k samples/s on one core)",
            f"{us:.0f} µs per tick: at most {1e3 / us:.0f}k samples/s on a whole core",
            us <= 10, "load-independent view of the same target")
    errs = {wl: s["spyglass-1k"]["error_pp_pooled"] for wl, s in summary.items()
            if wl.startswith("gt_") and
            s.get("spyglass-1k", {}).get("error_pp_pooled") is not None}
    if errs:
        worst = max(errs, key=errs.get)
        per_run = summary[worst]["spyglass-1k"].get("error_pp")
        add("accuracy at 1 kHz: <= 2 pp on every ground truth (all rounds pooled)",
            f"worst {errs[worst]:.1f} pp ({worst}; median of single runs "
            f"{per_run:.1f} pp)", errs[worst] <= 2.0, "")
    g = summary.get("gt_gil", {})
    for mid, key, label in [("spyglass-1k", "split", "CPU view"),
                            ("spyglass-1k", "split_gil", "GIL view"),
                            ("spyglass-cpu", "split", "--clock cpu")]:
        sp = g.get(mid, {}).get(key)
        if sp and sp.get("ratios"):
            add(f"GIL contention 3:1 within +-10% ({label})", _fmt_split(sp), sp["right"], "")
    for wl in ("call_heavy", "mixed", "gt_shares"):
        t = _get(summary, wl, "spyglass-trace", "slowdown")
        c = _get(summary, wl, "cprofile", "slowdown")
        if t and c:
            # where cProfile itself costs less than the noise there is nothing to halve
            add(f"trace overhead <= half of cProfile's ({wl})",
                f"{100 * (t - 1):.0f}% vs {100 * (c - 1):.0f}%",
                (t - 1) <= 0.5 * (c - 1) if c - 1 >= 0.05 else None,
                "cProfile's own overhead is within the noise")
    t, lp = _get(summary, "line_heavy", "spyglass-lines", "slowdown"), \
        _get(summary, "line_heavy", "line_profiler", "slowdown")
    if t and lp:
        add("lines overhead <= half of line_profiler's (line_heavy)",
            f"{100 * (t - 1):.0f}% vs {100 * (lp - 1):.0f}%", (t - 1) <= 0.5 * (lp - 1), "")
    out.extend(against_tachyon(summary))
    return out


# What "at or ahead of Tachyon" is judged on, at each rate: (key of the summary, what the
# row says, higher is better?, how a value is shown).
VERSUS = [
    ("slowdown", "slowdown", False, lambda x: f"{x:.2f}×"),
    ("samples_share", "samples taken / requested", True, lambda x: f"{100 * x:.1f}%"),
    ("profiler_cpu", "profiler's whole CPU", False, lambda x: f"{100 * x:.1f}%"),
    ("error_rate", "error rate", False, lambda x: f"{100 * x:.2f}%"),
    ("error_pp_pooled", "error vs truth, pooled", False, lambda x: f"{x:.1f} pp"),
]


def against_tachyon(summary):
    """spyglass against CPython 3.15's own sampler, workload by workload where both ran,
    at 1 and 10 kHz: met when spyglass is at or ahead on every workload. For CPU-time
    truths spyglass answers from the CPU view of the same run, Tachyon from its separate
    --mode cpu run where there is one (its collapsed output has no thread states)."""
    out = []
    for rate, sg, ty in (("1 kHz", "spyglass-1k", "tachyon-1k"),
                         ("10 kHz", "spyglass-10k", "tachyon-10k")):
        for key, what, higher, show in VERSUS:
            pairs, cpu_mode = [], []
            for wl, ws in summary.items():
                if wl.startswith("_"):
                    continue
                other = ty
                if (key == "error_pp_pooled" and rate == "1 kHz"
                        and ws.get("base", {}).get("truth_kind") == "cpu"
                        and ws.get("tachyon-cpu", {}).get(key) is not None):
                    other = "tachyon-cpu"
                a, b = ws.get(sg, {}).get(key), ws.get(other, {}).get(key)
                if a is not None and b is not None:
                    pairs.append((wl, a, b))
                    if other != ty:
                        cpu_mode.append(wl)
            if not pairs:
                continue
            behind = [(wl, a, b) for wl, a, b in pairs if (a < b if higher else a > b)]
            measured = f"at or ahead on {len(pairs) - len(behind)}/{len(pairs)} workloads"
            if behind:
                measured += "; behind on " + ", ".join(
                    f"{wl} ({show(a)} vs {show(b)})" for wl, a, b in behind)
            if cpu_mode:
                measured += f" (Tachyon --mode cpu on {', '.join(cpu_mode)})"
            out.append({"target": f"vs Tachyon at {rate}: {what}", "measured": measured,
                        "met": not behind, "detail": ""})
    return out


# ---- Markdown -----------------------------------------------------------------------------

def _fmt_split(sp):
    if not sp or not sp.get("ratios"):
        return "–"
    got = ":".join(f"{r:.2f}".rstrip("0").rstrip(".") for r in sp["ratios"])
    true = ":".join(f"{r:.2f}".rstrip("0").rstrip(".") for r in sp["true"])
    return f"{got} {'✓' if sp['right'] else '✗'} (true {true})"


def _pct(x, digits=1):
    return "–" if x is None else f"{100 * x:.{digits}f}%"


def _row(mid, label, s):
    if "unavailable" in s:
        return [label, f"not measured: {s['unavailable']}"] + [""] * 7
    if not s.get("runs") or s["failed"] == s["runs"]:
        why = "; ".join(s.get("errors", [])[:2]) or "no run"
        return [label, f"failed: {why}"] + [""] * 7
    slow = (f"{s['slowdown']:.2f}× ({s['slowdown_min']:.2f}–{s['slowdown_max']:.2f})"
            if s.get("slowdown") else "–")
    cpu = f"{s['cpu_ratio']:.2f}×" if s.get("cpu_ratio") else "–"
    samples = "–"
    if s.get("samples_share") is not None:
        rate = s.get("samples_per_second")
        samples = _pct(s["samples_share"]) + (f" ({rate:,.0f}/s)" if rate else "")
    prof = "–"
    if s.get("profiler_cpu") is not None:
        prof = _pct(s["profiler_cpu"])
        extra = []
        if s.get("sampler_cpu") is not None:
            extra.append(f"sampler {_pct(s['sampler_cpu'])}")
        if s.get("cpu_per_sample_us") is not None:
            extra.append(f"{s['cpu_per_sample_us']:,.0f} µs/sample")
        if (s.get("profiler_cpu_in_target") or 0) >= 0.01:
            extra.append(f"{s['profiler_cpu_in_target']:.2f} s of it in the target process")
        if extra:
            prof += " (" + "; ".join(extra) + ")"
    acc = "–"
    if s.get("error_pp") is not None:
        acc = f"{s['error_pp']:.1f} pp"
        if s.get("error_pp_unprofiled") is not None:
            acc += f" ({s['error_pp_unprofiled']:.1f})"
        if s.get("error_pp_pooled") is not None:
            acc += f"; pooled {s['error_pp_pooled']:.1f}"
        if s.get("measured_view") == "cpu":
            acc += " CPU view"
    elif s.get("parts_seen") is False and s.get("runs"):
        acc = "none of the parts seen"
    split = "–"
    if s.get("split"):
        split = _fmt_split(s["split"])
        if s.get("split_gil"):
            split = "CPU " + split + "; GIL " + _fmt_split(s["split_gil"])
    mem = "–"
    if s.get("memory_mb") is not None:
        # outside: the profiler process's own peak; inside: what it added to the target's
        if s.get("memory_kind") == "inside":
            mem = f"{round(s['memory_mb']) or 0:+d} MB"
        else:
            mem = f"{s['memory_mb']:.0f} MB"
    errs = _pct(s.get("error_rate"), 2) if s.get("error_rate") is not None else "–"
    label_cell = label + (f" ({s['failed']}/{s['runs']} runs failed: {s['errors'][0]})"
                          if s["failed"] else "")
    return [label_cell, slow, cpu, samples, prof, acc, split, mem, errs]


HEADER = ["profiler / mode", "slowdown (median, range)", "target CPU", "samples taken",
          "profiler CPU (% of a core)", "error vs truth", "thread split", "memory",
          "torn/failed samples"]


def _table(rows):
    keep = [0, 1] + [i for i in range(2, len(HEADER))
                     if any(r[i] not in ("–", "") for r in rows)]
    lines = ["| " + " | ".join(HEADER[i] for i in keep) + " |",
             "| " + " | ".join("---" for _ in keep) + " |"]
    for r in rows:
        if r[1].startswith(("not measured", "failed")):
            cells = [r[0], r[1]] + [""] * (len(keep) - 2)
        else:
            cells = [r[i] for i in keep]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def markdown(results):
    s = results["summary"]
    v = results["versions"]
    m = results["machine"]
    out = []
    out.append(f"## Python {results['python']} — {results['date']}"
               f"{' (quick subset)' if results['quick'] else ''}")
    out.append("")
    load = f"{m['loadavg_start'][0]:.1f} at start, {m['loadavg_end'][0]:.1f} at end"
    out.append(f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, Linux {m['kernel']}; "
               f"load average {load}.")
    vers = ", ".join(f"{k} {v[k]}" for k in ("spyglass", "py-spy", "austin", "tachyon",
                                             "pyinstrument", "line_profiler", "yappi",
                                             "pprofile", "scalene")
                     if v.get(k))
    out.append(f"- Versions: CPython {v['python']} (cProfile), {vers}.")
    notes = [st["note"] for st in results["install"].values()
             if isinstance(st, dict) and st.get("note")]
    for n in notes:
        out.append(f"- Note: {n}.")
    out.append(f"- Command: `{results['command']}`; {results['rounds']} rounds, "
               f"{results['seconds'] / 60:.1f} minutes.")
    out.append("")
    tg = s.get("_targets", [])
    if tg:
        out.append("### Targets")
        out.append("")
        out.append("| target | measured | met |")
        out.append("| --- | --- | --- |")
        for t in tg:
            met = ("n/a: " + t["detail"] if t["met"] is None
                   else "yes" if t["met"] else "**no**")
            out.append(f"| {t['target']} | {t['measured']} | {met} |")
        out.append("")
    for wl, plan in results["plan"].items():
        ws = s[wl]
        b = ws["base"]
        out.append(f"### {wl}: {results['descriptions'][wl]}")
        out.append("")
        line = f"Unprofiled: {b['work']:.3f} s of work (median)" if b.get("work") else \
            "Unprofiled runs failed: " + "; ".join(b["errors"][:2])
        if len(b.get("truth_shares") or {}) > 1:
            kind = "CPU time" if b["truth_kind"] == "cpu" else "wall time"
            parts = ", ".join(f"{k} {100 * val:.1f}%" for k, val in
                              sorted(b["truth_shares"].items(), key=lambda kv: -kv[1]))
            line += f"; true split ({kind}, measured inside the program): {parts}"
        out.append(line + f"; scale {plan['scale']}.")
        out.append("")
        rows = [_row(mid, results["labels"][mid], ws[mid]) for mid in plan["modes"]]
        out.append(_table(rows))
        out.append("")
    return "\n".join(out)


def update_benchmarks_md(path, results, md):
    """Replaces this Python version's generated section (between markers), or appends it."""
    ver = ".".join(results["python"].split(".")[:2])
    begin, end = f"<!-- bench:begin {ver} -->", f"<!-- bench:end {ver} -->"
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = "# Benchmarks\n"
    block = f"{begin}\n{md.rstrip()}\n{end}"
    pat = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if pat.search(text):
        text = pat.sub(lambda _m: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    import os

    os.replace(tmp, path)
