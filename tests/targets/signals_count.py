"""A CPU-bound loop under an interval timer: SIGALRM every 2 ms for SECONDS, each handled
by a Python handler that counts it. Prints the count, and "ok" if it is at least 80% of
what the timer should have delivered: a profiler that holds the program's threads must
hand every signal on (and not kill the program with its own)."""
import signal
import sys
import time

count = 0


def on_alarm(_sig, _frame):
    global count
    count += 1


def spin(seconds):
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x += 1
    return x


def main(seconds):
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.002, 0.002)
    spin(seconds)
    signal.setitimer(signal.ITIMER_REAL, 0)
    expected = seconds / 0.002
    print(count, "ok" if count >= 0.8 * expected else "LOST")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
