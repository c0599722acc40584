"""The reference for line hits: run a script under a plain sys.settrace function that
counts 'line' events in that script's file, as line_profiler-like tools do. Usage:
settrace_lines.py OUT.json SCRIPT [ARGS...]"""
import json
import os
import runpy
import sys
import threading
from collections import Counter


def main():
    out, script = sys.argv[1], os.path.abspath(sys.argv[2])
    counts = Counter()

    def tracer(frame, event, arg):
        if frame.f_code.co_filename != script:
            return None
        if event == "line":
            counts[frame.f_lineno] += 1
        return tracer

    sys.argv = sys.argv[2:]
    threading.settrace(tracer)
    sys.settrace(tracer)
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        sys.settrace(None)
        with open(out, "w") as f:
            json.dump(counts, f)


main()
