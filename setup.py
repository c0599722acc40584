"""Builds the C extension spyglass._core from src/ (the metadata lives in pyproject.toml).

SPYGLASS_STRICT=1 adds -Werror (the project's own builds use it; a user's compiler may
warn about things ours does not). SPYGLASS_SANITIZE=1 builds with ASan+UBSan."""
import glob
import os

from setuptools import Extension, setup

sources = sorted(glob.glob("src/core/**/*.c", recursive=True)) + sorted(glob.glob("src/ext/*.c"))
cflags = ["-std=c11", "-Wall", "-Wextra", "-Wshadow", "-Wno-unused-parameter", "-O2", "-g"]
ldflags = []
options = {}
if os.environ.get("SPYGLASS_STRICT") == "1":
    cflags.append("-Werror")
if os.environ.get("SPYGLASS_SANITIZE") == "1":
    san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined"]
    cflags += san + ["-O1"]
    ldflags += san
    # objects of their own: a later normal build must not link instrumented ones
    options = {"build": {"build_base": os.path.join("build", "setuptools-san")}}

setup(
    options=options,
    ext_modules=[
        Extension(
            "spyglass._core",
            sources=sources,
            define_macros=[("_GNU_SOURCE", "1")],
            extra_compile_args=cflags,
            extra_link_args=ldflags,
            libraries=["z", "m"],
        )
    ]
)
