"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/) from real
data: line tables of code objects compiled by each installed CPython, the 3.13
_Py_DebugOffsets block of a live interpreter, small real ELF files and profiles.

Maintenance only; the result is committed. Run from the repository root:
    python3 tools/gen_fuzz_seeds.py linetables PYTHON...   (each interpreter)
    python3 tools/gen_fuzz_seeds.py debug_offsets PYTHON3.13
    python3 tools/gen_fuzz_seeds.py elf
    python3 tools/gen_fuzz_seeds.py profiles SPYGLASS_PYTHON
Nothing here is imported by the package or the tests."""

import hashlib
import os
import struct
import subprocess
import sys
import tempfile

CORPUS = os.path.join("tests", "fuzz", "corpus")

# Run inside the interpreter whose tables we want: prints "<hex first_line+table>" lines.
DUMP_LINETABLES = r'''
import sys, types
attr = "co_lnotab" if sys.version_info < (3, 10) else "co_linetable"
src = """
import os

def simple(a, b):
    return a + b

class K:
    @property
    def prop(self):
        x = [i * 2
             for i in range(10)
             if i % 3]
        return x

    def loop(self, n):
        total = 0
        for i in range(n):
            try:
                total += 1 / (i - 3)
            except ZeroDivisionError:
                total -= 1
            finally:
                pass
        while total > 0:
            total -= 7
        return total

async def coro(x):
    async with x as y:
        await y

def gen():
    yield from range(3)
    yield (lambda q: q + 1)

def long_jump():
    a = 1
""" + "\n" * 300 + """    b = 2
""" + "\n" * 70000 + """    return a + \\
        b
"""
code = compile(src, "seed.py", "exec")
def walk(c):
    yield c
    for k in c.co_consts:
        if isinstance(k, types.CodeType):
            yield from walk(k)
big = compile("\n" * 100000 + "def far():\n    x = 1\n    return x\n", "far.py", "exec")
import json.decoder, argparse
extra = [json.decoder.JSONObject.__code__ if hasattr(json.decoder.JSONObject, "__code__") else None,
         argparse.ArgumentParser.parse_known_args.__code__,
         argparse.ArgumentParser._parse_known_args.__code__]
for c in list(walk(code)) + list(walk(big)) + [e for e in extra if e]:
    t = getattr(c, attr)
    print(c.co_firstlineno.to_bytes(4, "little", signed=True).hex() + t.hex(), c.co_name)
'''

FORMAT_DIRS = {9: "lnotab", 10: "linetable310"}  # 11+ -> "locations"


def put(target, data, name=None):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def linetables(pythons):
    for py in pythons:
        minor = int(subprocess.check_output(
            [py, "-c", "import sys; print(sys.version_info[1])"]).decode())
        target = FORMAT_DIRS.get(minor, "locations")
        out = subprocess.check_output([py, "-c", DUMP_LINETABLES]).decode()
        for line in out.splitlines():
            hexdata, name = line.split()
            put(target, bytes.fromhex(hexdata), f"py3{minor}_{name.strip('<>')}")


def debug_offsets(py):
    out = subprocess.check_output([py, "-c", (
        "import ctypes,sys; rt = ctypes.c_char.in_dll(ctypes.pythonapi, '_PyRuntime');"
        "sys.stdout.buffer.write(ctypes.string_at(ctypes.addressof(rt), 584))")])
    assert out[:8] == b"xdebugpy", out[:8]
    # First byte of an input: bit 0 = keep the input's own header.
    put("debug_offsets", b"\x01" + out, "py313_real")
    put("debug_offsets", b"\x00" + out[:300], "py313_truncated")
    put("debug_offsets", b"\x02" + out[24:], "py313_patched_header")


ELF_SRC = r'''
__attribute__((section(".PyRuntime"))) char _PyRuntime[64] = "xdebugpy";
const unsigned Py_Version = 0x030c01f0;
const char version[] = "3.12.1";
char PyCode_Type[16], PyFrame_Type[16];
int main(void) { return _PyRuntime[0] + (int)Py_Version + version[0]; }
'''


def elf():
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "tiny.c")
        with open(src, "w") as f:
            f.write(ELF_SRC)
        for name, flags in (("pie", ["-fPIE", "-pie"]), ("nopie", ["-no-pie"]),
                            ("shared", ["-shared", "-fPIC"])):
            out = os.path.join(tmp, name)
            subprocess.check_call(["gcc", "-Os", "-s" if name == "stripped" else "-g0",
                                   "-nostartfiles", "-Wl,-e,main", *flags, "-o", out, src])
            data = open(out, "rb").read()
            put("elf", data, f"tiny_{name}")
        # The first 4 KiB of a real interpreter: headers whose tables lie beyond the end.
        put("elf", open(sys.executable, "rb").read(4096), "python_head")
        put("elf", b"\x7fELF\x02\x01\x01" + b"\0" * 57, "empty_header")


def profiles(py):
    """Small real profiles: one sampled run of a tiny target (raw and gzip)."""
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "tiny_target.py")
        with open(script, "w") as f:
            f.write("import threading\n"
                    "def leaf(n):\n    return sum(range(n))\n"
                    "def mid():\n    for _ in range(200):\n        leaf(20000)\n"
                    "t = threading.Thread(target=mid, name='worker')\nt.start()\nmid()\n"
                    "t.join()\n")
        out = os.path.join(tmp, "p.pb.gz")
        subprocess.check_call([py, "-m", "spyglass", "run", "--rate", "200", "-o", out,
                               script])
        data = open(out, "rb").read()
        put("profile", data, "sampled_gzip")
        import gzip
        put("profile", gzip.decompress(data), "sampled_raw")
        put("profile", data[: len(data) // 2], "sampled_truncated")


def main(argv):
    cmd = argv[1]
    if cmd == "linetables":
        linetables(argv[2:])
    elif cmd == "debug_offsets":
        debug_offsets(argv[2])
    elif cmd == "elf":
        elf()
    elif cmd == "profiles":
        profiles(argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
