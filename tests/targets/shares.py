"""Three functions burn known shares of CPU time (60/30/10), interleaved in small slices
so no phase of the run favours one. The program measures the time each really got and
prints it as JSON on stdout: that is the ground truth the profile is checked against."""
import json
import sys
import time

SLICE = 0.010


def burn(seconds):
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x += 1
    return x


def sixty(spent):
    t = time.perf_counter()
    burn(6 * SLICE)
    spent["sixty"] += time.perf_counter() - t


def thirty(spent):
    t = time.perf_counter()
    burn(3 * SLICE)
    spent["thirty"] += time.perf_counter() - t


def ten(spent):
    t = time.perf_counter()
    burn(1 * SLICE)
    spent["ten"] += time.perf_counter() - t


def main(total):
    spent = {"sixty": 0.0, "thirty": 0.0, "ten": 0.0}
    end = time.perf_counter() + total
    while time.perf_counter() < end:
        sixty(spent)
        thirty(spent)
        ten(spent)
    json.dump(spent, sys.stdout)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
