"""Ends in the way named by argv[1]: exit N, raise, os._exit N, kill itself, or run
until interrupted, after burning a little CPU so there is something to report."""
import os
import signal
import sys
import time


def busy(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def fail_deep():
    raise ValueError("boom from the target")


def main(how, arg):
    busy(0.3)
    if how == "exit":
        sys.exit(int(arg))
    if how == "raise":
        fail_deep()
    if how == "os_exit":
        sys.stdout.flush()
        os._exit(int(arg))
    if how == "kill":
        os.kill(os.getpid(), getattr(signal, arg))
    if how == "forever":
        print("ready", flush=True)
        while True:
            busy(0.05)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "0")
