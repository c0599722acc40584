"""The in-process API: two tracing sessions in one process, a thread started before
the first one (and running through both), a thread started between them, then a
session started and stopped in the middle of a recursion. Prints what each session
saw, per thread, as JSON."""
import json
import sys
import threading
import time

from spyglass._trace import TraceSession


def tick():
    return 1


def pump(stop, counter):
    while not stop.is_set():
        counter[0] += tick()
        time.sleep(0.0005)


def burst(n):
    for _ in range(n):
        tick()


def summary(profile):
    d = profile.to_dict()
    funcs, locs, tracks = d["functions"], d["locations"], d["tracks"]
    out = {}
    for r in d["records"]:
        name = funcs[locs[r["stack"][-1]][0]][0]
        if name in ("tick", "burst", "dive"):
            key = f"{tracks[r['track']]['name']}:{name}"
            out[key] = out.get(key, 0) + r["values"][0]
    return out


def dive(depth, session, log):
    """Tracing starts 3 levels down and stops 6 levels down: 3 ticks and 3 calls of
    dive (levels 4 to 6) happen while it runs."""
    if depth == 3:
        session.start()
    if depth == 6:
        log.append(summary(session.stop()))
        return
    tick()
    dive(depth + 1, session, log)


def main(mode):
    stop = threading.Event()
    counter = [0]
    early = threading.Thread(target=pump, args=(stop, counter), name="early")
    early.start()
    time.sleep(0.05)
    results = []
    for round_ in range(2):
        session = TraceSession(mode)
        session.start()
        burst(100)
        late = threading.Thread(target=burst, args=(50,), name=f"late{round_}")
        late.start()
        late.join()
        time.sleep(0.05)
        results.append(summary(session.stop()))
    stop.set()
    early.join()
    dive(0, TraceSession(mode), results)
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "trace")
