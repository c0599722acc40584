"""Works in Python, then replaces itself with a program that is not Python
(/bin/sh), which prints a line and exits with status 4."""
import os
import sys
import time


def busy(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


busy(float(sys.argv[1]))
print("python part done", flush=True)
os.execv("/bin/sh", ["sh", "-c", "sleep 0.3; echo from-sh; exit 4"])
