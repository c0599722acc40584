"""The sampler's own CPU with and without thread names: `spyglass run --rate 1000` on a
program with 20 named threads (workloads/named_threads.py), alternating between two
installations of spyglass (e.g. this tree and a build of the commit before thread
names), ROUNDS times each; reports medians of the sampler's CPU time per second of
sampling, the ticks taken against those requested, and whether the tracks got the
threads' Python names.
Usage: python bench/threadnames_overhead.py --with PYTHON --without PYTHON
       [--rounds 5] [--seconds 5] [--rate 1000]
(each PYTHON is the interpreter of a virtualenv with that spyglass installed)."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "workloads", "named_threads.py")

READ = r"""
import json, sys, spyglass
d = spyglass.load(sys.argv[1]).to_dict()
m = d["meta"]
print(json.dumps({
    "cpu": float(d["attrs"]["sampler_cpu_seconds"]), "duration": m["duration_ns"] / 1e9,
    "taken": m["ticks_taken"], "requested": m["ticks_requested"],
    "named": sum(t["name"].startswith("worker-") for t in d["tracks"]),
}))
"""


def one(python, seconds, rate):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "p.pb.gz")
        subprocess.run([python, "-m", "spyglass", "run", "--rate", str(rate), "-o", path,
                        WORKLOAD, str(seconds)], check=True, capture_output=True)
        out = subprocess.run([python, "-c", READ, path], check=True, capture_output=True,
                             text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--with", dest="with_", required=True, metavar="PYTHON")
    ap.add_argument("--without", required=True, metavar="PYTHON")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rate", type=int, default=1000)
    args = ap.parse_args()
    runs = {"with names": [], "without names": []}
    for _ in range(args.rounds):
        runs["without names"].append(one(args.without, args.seconds, args.rate))
        runs["with names"].append(one(args.with_, args.seconds, args.rate))
    print(f"{args.rounds} rounds of {args.seconds:g} s at {args.rate} Hz, 21 threads "
          f"(20 named); medians")
    print("| build | sampler CPU (% of a core) | CPU per tick (us) | ticks taken / requested "
          "| tracks named |")
    print("| --- | --- | --- | --- | --- |")
    for label, rows in runs.items():
        share = statistics.median(r["cpu"] / r["duration"] for r in rows)
        per_tick = statistics.median(1e6 * r["cpu"] / max(r["taken"], 1) for r in rows)
        taken = statistics.median(r["taken"] / max(r["requested"], 1) for r in rows)
        named = statistics.median(r["named"] for r in rows)
        print(f"| {label} | {100 * share:.1f}% | {per_tick:.1f} | {100 * taken:.1f}% | "
              f"{named:g} of 20 |")


if __name__ == "__main__":
    sys.exit(main())
