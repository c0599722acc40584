"""`make torture-long`: samples a mixed workload (tests/targets/torture_long.py) at
10 kHz for SECONDS (default 600) and reports how the sampler process's memory (RSS)
grew. The profile model grows with distinct stacks only, and the workload's distinct
stacks are bounded, so RSS should level off after the first seconds.

Threads come and go all the time: past --max-threads (1000 by default) they share one
track, which is what keeps the profile bounded; `--max-threads 100000000` shows the
growth without that cap.

Usage: python tools/torture_long.py PYTHON_WITH_SPYGLASS [SECONDS [SPYGLASS RUN OPTIONS]]"""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(os.path.dirname(HERE), "tests", "targets", "torture_long.py")


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def main():
    python = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 600.0
    extra = sys.argv[3:]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "long.pb.gz")
        proc = subprocess.Popen([python, "-m", "spyglass", "run", "--rate", "10000", "-o", out,
                                 *extra, TARGET, str(seconds)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        start = time.monotonic()
        points = []
        while proc.poll() is None:
            r = rss_kib(proc.pid)
            if r is not None:
                points.append((time.monotonic() - start, r))
            time.sleep(5)
        stdout, stderr = proc.communicate()
        size = os.path.getsize(out) if os.path.exists(out) else 0
        shape = ""
        if size:
            counted = subprocess.run(
                [python, "-c", "import sys, spyglass; d = spyglass.load(sys.argv[1]).to_dict(); "
                 "print(len(d['tracks']), len(d['records']))", out],
                capture_output=True, text=True)
            if counted.returncode == 0:
                tracks, records = counted.stdout.split()
                shape = f" ({tracks} threads, {records} records)"
    print(stderr.strip().splitlines()[-1] if stderr.strip() else "(no stderr)")
    if proc.returncode != 0 or "long ok" not in stdout or len(points) < 4:
        print(f"torture-long: FAILED (status {proc.returncode}, stdout {stdout!r})")
        return 1
    warm = next((p for p in points if p[0] >= 30), points[len(points) // 4])
    last = points[-1]
    peak = max(r for _, r in points)
    print(f"sampler RSS: {points[0][1]} KiB at {points[0][0]:.0f} s, {warm[1]} KiB at "
          f"{warm[0]:.0f} s, {last[1]} KiB at {last[0]:.0f} s (peak {peak} KiB); growth after "
          f"warm-up {last[1] - warm[1]} KiB over {last[0] - warm[0]:.0f} s; profile "
          f"{size} bytes{shape}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
