"""The code under test: a slow function, a medium one, and one a test profiles as a
block. Each spins in its own loop, so each is the hottest function of its test."""
import time


def slow_function():
    end = time.perf_counter() + 0.4
    x = 0
    while time.perf_counter() < end:
        for _ in range(100):
            x += 1
    return x


def medium_function():
    end = time.perf_counter() + 0.15
    x = 0
    while time.perf_counter() < end:
        for _ in range(100):
            x += 1
    return x


def block_function():
    end = time.perf_counter() + 0.15
    x = 0
    while time.perf_counter() < end:
        for _ in range(100):
            x += 1
    return x
