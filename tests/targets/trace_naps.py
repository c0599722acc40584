"""Lines with known costs: one sleeps, one calls a traced function that sleeps, one
calls json (the standard library, outside the default line-tracing scope)."""
import json
import time


def nap(seconds):
    time.sleep(seconds)


def main():
    time.sleep(0.2)
    nap(0.1)
    text = json.dumps({"a": [1, 2, 3]})
    return text


if __name__ == "__main__":
    main()
