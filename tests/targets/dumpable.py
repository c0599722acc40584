"""Three threads parked in known functions, for `spyglass dump` and `attach`: the main
thread waits in main_wait, "spinner" burns CPU in spin_inner (called by spin_outer),
"napper" sleeps in nap. Prints "ready" once every thread is in place, then runs until
stdin closes (or for argv[1] seconds)."""
import sys
import threading
import time

stop = threading.Event()
in_place = threading.Barrier(3)


def spin_inner():
    x = 0
    while not stop.is_set():
        for i in range(2000):
            x += i * i
    return x


def spin_outer():
    in_place.wait()
    return spin_inner()


def nap():
    in_place.wait()
    while not stop.is_set():
        time.sleep(0.05)


def main_wait(seconds):
    in_place.wait()
    print("ready", flush=True)
    if seconds:
        stop.wait(seconds)
    else:
        sys.stdin.read()
    stop.set()


def main():
    threading.Thread(target=spin_outer, name="spinner").start()
    threading.Thread(target=nap, name="napper").start()
    main_wait(float(sys.argv[1]) if len(sys.argv) > 1 else 0)


if __name__ == "__main__":
    main()
