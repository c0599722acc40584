#!/usr/bin/env bash
# A virtualenv with pip for PYTHON at DIR. Interpreters without ensurepip (Debian's, from
# tools/get-debian-pythons.sh) get pip from its wheel, downloaded once by python3's pip and run from the wheel itself.
# Usage: tools/make-venv.sh PYTHON DIR
set -euo pipefail
py=${1:?usage: make-venv.sh PYTHON DIR}
dir=${2:?usage: make-venv.sh PYTHON DIR}
if "$py" -c 'import ensurepip' 2>/dev/null; then
    exec "$py" -m venv "$dir"
fi
"$py" -m venv --without-pip "$dir"
wheels=$(cd "$(dirname "$0")/.." && pwd)/build/wheels
whl=$(ls "$wheels"/pip-*.whl 2>/dev/null | sort -V | tail -1 || true)
if [[ -z $whl ]]; then
    python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary :all: pip -d "$wheels" || true
    whl=$(ls "$wheels"/pip-*.whl 2>/dev/null | sort -V | tail -1 || true)
    [[ -n $whl ]] || { echo "spyglass: error: cannot download pip's wheel for $py (python3 -m pip download pip failed)" >&2; exit 1; }
fi
"$dir/bin/python" "$whl/pip" install -q --disable-pip-version-check --no-index "$whl"
