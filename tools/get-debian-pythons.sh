#!/usr/bin/env bash
# CPython 3.14 and 3.15 for the tests, from Debian's archive (suite sid), without touching the
# system: apt runs on a private state directory (its own sources, lists and cache under
# $dest/apt), packages are downloaded, not installed, and unpacked into one prefix. The
# binaries need sid's glibc, so they are pointed at the unpacked loader and libraries.
#
# Usage: tools/get-debian-pythons.sh DEST [VERSION...]   (default versions: 3.14 3.15)
# Result: DEST/usr/bin/python3.X (the release build, PIE), python3.Xd (the debug build, a
# layout no table of ours describes) and python3.X-nopie (non-PIE), each runnable in place,
# with its headers (internal ones included) under DEST/usr/include/python3.X.
# Exits 0 without doing anything when DEST is already complete; exits 3 with one line on
# stderr when Debian's archive cannot be reached (the tests then run on the other Pythons).
set -euo pipefail
dest=${1:?usage: get-debian-pythons.sh DEST [VERSION...]}
shift
versions=("$@")
[[ ${#versions[@]} -gt 0 ]] || versions=(3.14 3.15)
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
stamp="$dest/.complete-$(IFS=-; echo "${versions[*]}")"
[[ -f $stamp ]] && exit 0

say() { echo "== debian pythons: $*"; }
for tool in apt-get dpkg-deb patchelf; do
    command -v "$tool" >/dev/null || { echo "spyglass: error: $tool not found (make deps installs patchelf)" >&2; exit 1; }
done

# Private apt state: nothing under /etc/apt or /var/lib/apt is read or written.
apt_dir="$dest/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/parts" "$apt_dir/prefs" "$apt_dir/debs"
: >"$apt_dir/status"
cat >"$apt_dir/parts/sid.sources" <<EOF
Types: deb
URIs: ${DEBIAN_MIRROR:-http://deb.debian.org/debian}
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt_dir/parts"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
    -o "Dir::State::status=$apt_dir/status" -o Dir::Etc::Preferences=/dev/null
    -o "Dir::Etc::PreferencesParts=$apt_dir/prefs" -o Acquire::Retries=3 -q)
[[ $(id -u) -eq 0 ]] && apt_opts+=(-o APT::Sandbox::User=root)

say "reading suite sid's package lists"
if ! apt-get "${apt_opts[@]}" update >"$apt_dir/update.log" 2>&1; then
    echo "spyglass: Debian's archive is not reachable (see $apt_dir/update.log): Python ${versions[*]} not installed" >&2
    exit 3
fi

pkgs=(libc6 libzstd1 libexpat1 zlib1g libffi8 libssl3t64 libmpdec4 libsqlite3-0 libbz2-1.0
    liblzma5 libuuid1 libgcc-s1 libncursesw6 libtinfo6 libreadline8t64)
for v in "${versions[@]}"; do
    pkgs+=("python$v-minimal" "libpython$v-minimal" "libpython$v-stdlib" "libpython$v"
        "libpython$v-dev" "python$v-dev" "python$v" "python$v-dbg" "libpython$v-dbg" "python$v-nopie")
done
say "downloading ${#pkgs[@]} packages"
rm -f "$apt_dir/debs"/*.deb
(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download "${pkgs[@]}" >"$apt_dir/download.log" 2>&1) || {
    echo "spyglass: error: apt-get download failed (see $apt_dir/download.log)" >&2; exit 1; }

say "unpacking into $dest/usr"
rm -rf "$dest/usr" "$dest/etc"
for deb in "$apt_dir/debs"/*.deb; do
    case "$deb" in *-nopie_*) continue;; esac
    dpkg-deb -x "$deb" "$dest"
done
libdir="$dest/usr/lib/x86_64-linux-gnu"
for v in "${versions[@]}"; do
    # python3.X-nopie ships usr/bin/python3.X too: unpack it aside and keep it by another name.
    tmp=$(mktemp -d)
    dpkg-deb -x "$apt_dir/debs/python$v-nopie_"*.deb "$tmp"
    mv "$tmp/usr/bin/python$v" "$dest/usr/bin/python$v-nopie"
    rm -rf "$tmp"
    for exe in "python$v" "python${v}d" "python$v-nopie"; do
        patchelf --set-interpreter "$libdir/ld-linux-x86-64.so.2" --set-rpath "$libdir" "$dest/usr/bin/$exe"
    done
    for so in "$dest/usr/lib/python$v/lib-dynload/"*.so "$libdir"/libpython"$v"*.so.*; do
        [[ -L $so ]] || patchelf --set-rpath "$libdir" "$so"
    done
    # Debian's pyconfig.h includes a multiarch file by a path only the system has.
    for flavour in "$v" "${v}d"; do
        cp "$dest/usr/include/x86_64-linux-gnu/python$flavour/pyconfig.h" "$dest/usr/include/python$flavour/pyconfig.h"
    done
    # Debian marks its stdlib externally managed; our venvs are ours to manage.
    rm -f "$dest/usr/lib/python$v/EXTERNALLY-MANAGED"
    # Debian byte-compiles the standard library when the package is installed (py3compile
    # in postinst), which unpacking skips: without it every import compiles its source
    # again, which doubles an interpreter's start-up (and PYTHONDONTWRITEBYTECODE, set on
    # some machines, keeps it so).
    env -u PYTHONDONTWRITEBYTECODE "$dest/usr/bin/python$v" -m compileall -q -j 0 \
        -x 'lib2to3/tests|test/|tests/' "$dest/usr/lib/python$v" >/dev/null || true
    for exe in "python$v" "python${v}d" "python$v-nopie"; do
        "$dest/usr/bin/$exe" -c 'import ssl, sqlite3, ctypes, decimal, zlib, venv' || {
            echo "spyglass: error: $dest/usr/bin/$exe does not run" >&2; exit 1; }
    done
    say "$("$dest/usr/bin/python$v" -c 'import sys; print(sys.version.split()[0])') ready: $dest/usr/bin/python$v (also python${v}d, python$v-nopie)"
done
rm -f "$dest"/.complete-*
touch "$stamp"
