"""Ends in the way argv[1] says, from a few frames deep: exit N, raise, interrupt
(KeyboardInterrupt raised by the code), sigint (a real SIGINT to itself), forever
(prints "ready" and runs until killed)."""
import os
import signal
import sys


def spin(n):
    total = 0
    for i in range(n):
        total += i
    return total


def finish(how, arg):
    spin(1000)
    if how == "exit":
        sys.exit(int(arg))
    if how == "exit_msg":
        sys.exit("goodbye from the target")
    if how == "raise":
        raise ValueError("boom from the target")
    if how == "interrupt":
        raise KeyboardInterrupt
    if how == "forever":
        print("ready", flush=True)
        while True:
            spin(100)
    if how == "sigint":
        os.kill(os.getpid(), signal.SIGINT)
        while True:
            spin(10)


def main(how, arg):
    spin(100)
    finish(how, arg)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "0")
