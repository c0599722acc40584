"""Prints its PID, then runs Python code (a few threads, some recursion) until killed."""
import os
import threading


def spin(depth):
    if depth:
        return spin(depth - 1)
    while True:
        sum(range(1000))


for _ in range(3):
    threading.Thread(target=spin, args=(20,), daemon=True).start()
print(os.getpid(), flush=True)
spin(50)
