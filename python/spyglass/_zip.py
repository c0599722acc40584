"""--zipfile: a callgrind profile that opens on another machine. The zip holds
callgrind.out.spyglass with every file name made relative (its leading '/' dropped)
and, under those same relative names, the profiled source files that can be read, as
pprofile does; unzip it anywhere and open callgrind.out.spyglass in KCachegrind.
Glue only: the callgrind text comes from the C writer."""

import io
import os
import zipfile

from . import _core

CALLGRIND_NAME = "callgrind.out.spyglass"
MAX_SOURCE_BYTES = 64 << 20


def _arcname(path):
    """The name a source file gets in the zip (the callgrind writer drops the leading
    '/' the same way), or None for a file that cannot be bundled safely."""
    if not path.startswith("/") or not os.path.isfile(path):
        return None
    rel = path.lstrip("/")
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return None
    # the writer escapes control characters and bytes that are not UTF-8; such a
    # name would not match its zip entry
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c == "\ufffd" for c in rel):
        return None
    return rel


def build(profile, per_thread=False):
    """The zip's bytes for an already filtered profile."""
    data = profile.render("callgrind", per_thread=per_thread, relative_paths=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(CALLGRIND_NAME, data)
        for path in profile.filenames():
            arc = _arcname(path)
            if arc is None:
                continue
            try:
                if os.path.getsize(path) > MAX_SOURCE_BYTES:
                    continue
                with open(path, "rb") as f:
                    zf.writestr(arc, f.read())
            except OSError:
                continue
    return buf.getvalue()


def write(profile, path, per_thread=False):
    """Writes the zip atomically."""
    _core.write_file(path, build(profile, per_thread))
