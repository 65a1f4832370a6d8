#!/bin/sh
# Set up tinykiln on Debian or Ubuntu: the host and cross compilers and QEMU from the
# distribution, then tinykiln with what its demo needs (tinykiln[demo]: tflite-micro, platformio,
# and rich and imgtool for `tinykiln release`).
# Run it from anywhere, as yourself (it asks sudo for apt-get) or as root; running it again only
# reinstalls tinykiln. Network: the Debian/Ubuntu mirrors and PyPI, nothing else.
#
#   sh install.sh [--riscv] [--packages-only]
#     --riscv          also the RISC-V cross compiler, picolibc and QEMU (board sifive_e; ~1.4 GB)
#     --packages-only  only the Debian packages (CI installs the Python side itself)
#   PYTHON=/path/to/python sh install.sh   installs into that Python instead (see below)
#
# Which Python: a Python you manage (an active venv, pyenv, conda: any whose prefix is not /usr)
# gets tinykiln installed into it. The distribution's own python3 refuses pip installs
# (PEP 668, "externally managed"), so it gets a virtual environment, .venv beside this file.
# `tinykiln` and `pio` are then put on PATH if they are not: a link in /usr/local/bin (or in
# ~/.local/bin when that is on PATH).
set -eu

riscv=no
python_side=yes
for arg in "$@"; do
    case "$arg" in
        --riscv) riscv=yes ;;
        --packages-only) python_side=no ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
    esac
done
cd "$(dirname "$0")"
here=$(pwd)

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

# Commands that need root: run directly as root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "this step needs root and sudo is not installed: run install.sh as root ($*)"
    fi
}

# 1. Debian packages: gcc for host builds (and the QEMU profiling plugin), the Arm cross
#    compiler with newlib, QEMU for the emulated Arm boards, Python with venv.
packages="gcc libc6-dev gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm python3 python3-venv"
if [ "$riscv" = yes ]; then
    packages="$packages gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc"
fi
if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
    missing=""
    for p in $packages; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' ||
            missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        say "installing Debian packages:$missing"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        # shellcheck disable=SC2086
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends $missing
    else
        say "Debian packages already installed: $packages"
    fi
else
    say "no apt-get here: install these (Debian names) with your package manager: $packages"
fi
[ "$python_side" = yes ] || exit 0

# 2. The Python package with the demo's extras.
py=${PYTHON:-python3}
command -v "$py" >/dev/null 2>&1 || die "no $py on PATH"
"$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    die "tinykiln needs Python 3.10 or newer; $py is $("$py" -V 2>&1)"
if [ "$("$py" -c 'import sys; print(sys.prefix)')" = /usr ]; then
    if ! [ -x .venv/bin/python ]; then
        say "the system's $py is managed by apt (PEP 668): creating a virtual environment in $here/.venv"
        "$py" -m venv .venv
    fi
    py="$here/.venv/bin/python"
fi
# Keep an editable install of this folder editable (a developer's set-up); else a normal one.
mode=$("$py" - "$here" <<'EOF'
import json, sys
from importlib import metadata
try:
    d = json.loads(metadata.distribution("tinykiln").read_text("direct_url.json") or "{}")
except metadata.PackageNotFoundError:
    d = {}
editable = d.get("dir_info", {}).get("editable") and d.get("url") == "file://" + sys.argv[1]
print("-e" if editable else "")
EOF
)
say "installing tinykiln[demo] into $("$py" -c 'import sys; print(sys.prefix)')${mode:+ (editable, as before)}"
# shellcheck disable=SC2086
PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
    "$py" -m pip install -q $mode "$here[demo]"
if command -v pyenv >/dev/null 2>&1; then
    pyenv rehash 2>/dev/null || true       # pyenv's shims for the new commands
fi

# 3. `tinykiln` and `pio` on PATH.
bindir=$("$py" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
on_path() { case ":$PATH:" in *":$1:"*) return 0 ;; *) return 1 ;; esac; }
for cmd in tinykiln pio; do
    [ -x "$bindir/$cmd" ] || die "pip installed no $bindir/$cmd"
    if found=$(command -v "$cmd"); then
        [ "$(readlink -f "$found")" = "$(readlink -f "$bindir/$cmd")" ] ||
            case "$found" in */shims/"$cmd") ;; *)
                say "note: '$cmd' on PATH is $found, not the one just installed ($bindir/$cmd)" ;;
            esac
    elif [ "$(id -u)" != 0 ] && on_path "$HOME/.local/bin"; then
        mkdir -p "$HOME/.local/bin"
        ln -sf "$bindir/$cmd" "$HOME/.local/bin/$cmd"
        say "linked $HOME/.local/bin/$cmd -> $bindir/$cmd"
    else
        on_path /usr/local/bin || die "neither /usr/local/bin nor ~/.local/bin is on PATH: add $bindir to PATH"
        as_root ln -sf "$bindir/$cmd" "/usr/local/bin/$cmd"
        say "linked /usr/local/bin/$cmd -> $bindir/$cmd"
    fi
done
say "done: tinykiln $("$bindir/tinykiln" --version | cut -d' ' -f2) in $bindir; next: tinykiln demo"
if [ "$bindir" = "$here/.venv/bin" ]; then
    say "for the tests and pip, activate the environment first: . .venv/bin/activate"
fi
