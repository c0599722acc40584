"""`make sanitize`: LeakSanitizer's reports of the pytest run, narrowed to our leaks.

The pytest suite runs unmodified interpreters with the ASan runtime preloaded, so every
Python process (pytest, `spyglass`, the profiled programs) writes a leak report at exit
(log_path=DIR/lsan). CPython does not free everything at exit, by design, so those
reports are full of allocations that are not ours. A leak is ours when a frame of its
allocation stack lies in spyglass's extension module (`spyglass/_core...so`): this
script prints those and fails; the rest is counted and left alone.

Usage: python tools/lsan_ours.py DIR"""
import glob
import os
import re
import shutil
import subprocess
import sys

LEAK = re.compile(r"^(Direct|Indirect) leak of (\d+) byte")
FRAME = re.compile(r"^\s+#\d+ ")
OURS = re.compile(r"spyglass/_core[^/]*\.so|/src/(core|ext)/")
MODULE_OFFSET = re.compile(r"\((/[^()+]+\.so)\+(0x[0-9a-f]+)\)")


def symbolized(frame):
    """The frame with function and line appended when it lies in our module (the reports
    are written unsymbolized: symbolizing every interpreter leak would take minutes)."""
    m = MODULE_OFFSET.search(frame)
    if not m or not OURS.search(m.group(1)) or not shutil.which("addr2line"):
        return frame
    out = subprocess.run(["addr2line", "-f", "-C", "-e", m.group(1), m.group(2)],
                         capture_output=True, text=True)
    where = " ".join(out.stdout.split()) if out.returncode == 0 else ""
    return f"{frame}  {where}" if where else frame


def leaks(text):
    """(header, frames) of every leak in one report."""
    block = None
    for line in text.splitlines():
        if LEAK.match(line):
            if block:
                yield block
            block = (line, [])
        elif block and FRAME.match(line):
            block[1].append(line.strip())
        elif block and block[1]:
            yield block
            block = None
    if block:
        yield block


def main(directory):
    ours, others, reports = [], 0, 0
    for path in sorted(glob.glob(os.path.join(directory, "lsan*"))):
        with open(path, errors="replace") as f:
            text = f.read()
        reports += 1
        if "ERROR: AddressSanitizer" in text or "runtime error:" in text:
            print(f"{path}: an ASan/UBSan error, not only leaks:\n{text[:4000]}")
            return 1
        for header, frames in leaks(text):
            if any(OURS.search(fr) for fr in frames):
                ours.append((path, header, frames))
            else:
                others += 1
    for path, header, frames in ours[:20]:
        print(f"{path}: {header}")
        for fr in frames[:16]:
            print(f"    {symbolized(fr)}")
    print(f"LeakSanitizer: {reports} process reports, {len(ours)} leaks of spyglass's, "
          f"{others} of the interpreters' (not ours, ignored)")
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
