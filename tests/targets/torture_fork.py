"""Forks N children without exec while sampled: each child is a copy of this Python
process that works a little and ends with os._exit(CHILD_STATUS); the parent checks
every child's status and keeps working in between."""
import os
import sys
import time

CHILD_STATUS = 7


def busy(seconds):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


def main(n):
    statuses = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            busy(0.05)
            os._exit(CHILD_STATUS)
        busy(0.05)
        _, status = os.waitpid(pid, 0)
        statuses.append(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode")
                        else status >> 8)
    print(f"fork ok {statuses == [CHILD_STATUS] * n}")
    sys.stdout.flush()
    sys.exit(3)


if __name__ == "__main__":
    main(int(sys.argv[1]))
