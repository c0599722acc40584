"""`make torture-matrix`: the torture tests' error rates as one Markdown table, a row per
test and a column per CPython version, from the JSON lines that tests/py/test_torture.py
appends to $SPYGLASS_TORTURE_REPORT. A test that failed shows what pytest said in the
summary (the runs before it still count).

Usage: python tools/torture_matrix.py REPORT.jsonl [PYTEST_SUMMARY...]"""
import json
import sys


def main(path, summaries):
    cells, versions, tests = {}, [], []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            v = ".".join(r["python"].split(".")[:2])
            if v not in versions:
                versions.append(v)
            if r["test"] not in tests:
                tests.append(r["test"])
            cells[(r["test"], v)] = f"{r['error_rate']:.2f}% of {r['samples']:,}"
    versions.sort(key=lambda v: tuple(int(x) for x in v.split(".")))
    print("| test | " + " | ".join(versions) + " |")
    print("| --- |" + " --- |" * len(versions))
    for t in tests:
        print(f"| {t} | " + " | ".join(cells.get((t, v), "–") for v in versions) + " |")
    for s in summaries:
        print(s)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
