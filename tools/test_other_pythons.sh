#!/usr/bin/env bash
# Run the unit tests (without the slow ones) and the notebooks under nbval on each supported
# Python other than the one `make test` uses, each in its own environment (.venv-3.X).
# CI runs it before `make test`; a learner can too. A supported version that this machine does
# not have is reported as skipped, never as passed.
#
# The notebooks are shared out among the other versions found (the i-th notebook to the
# (i mod n)-th version), so that every notebook runs on the default Python (make test) and on
# one other, and CI stays well under 20 minutes; ALL_NOTEBOOKS=1 runs every notebook on each.
#
# Where an interpreter is looked for: `python3.X` on PATH (if it runs: an inactive pyenv shim
# does not), then pyenv's versions folder.
# Usage: bash tools/test_other_pythons.sh
set -uo pipefail
cd "$(dirname "$0")/.."

SUPPORTED="3.11 3.12 3.13"
# The interpreter `make test` uses (the newest supported one that runs, or PYTHON=...).
default=$(make --no-print-directory -s which-python 2>/dev/null | sed -n 's/.*(Python \([0-9]*\.[0-9]*\).*/\1/p')

find_python() {  # $1 = "3.12"; prints a path that runs, or nothing
    local v=$1 candidate
    if candidate=$(command -v "python$v") && "$candidate" -c 'pass' > /dev/null 2>&1; then
        echo "$candidate"; return
    fi
    local root
    root=$(pyenv root 2>/dev/null) || return 0
    for candidate in $(ls -d "$root"/versions/"$v".*/bin/"python$v" 2>/dev/null | sort -V -r); do
        if "$candidate" -c 'pass' > /dev/null 2>&1; then echo "$candidate"; return; fi
    done
}

# In parallel like `make test` (JOBS=0: one process): one worker per core, at most 4.
jobs=${JOBS:-$(n=$(nproc 2>/dev/null || echo 1); [ "$n" -gt 4 ] && n=4; echo "$n")}
parallel=()
[ "$jobs" != "0" ] && parallel=(-n "$jobs" --dist loadfile)

summary=()
failed=0
versions=()
for v in $SUPPORTED; do
    if [ "$v" = "$default" ]; then
        summary+=("Python $v: the default interpreter, tested by make test"); continue
    fi
    if [ -z "$(find_python "$v")" ]; then
        summary+=("Python $v: skipped (not on this machine)"); continue
    fi
    versions+=("$v")
done

all_notebooks=(notebooks/*.ipynb)
for k in "${!versions[@]}"; do
    v=${versions[$k]}
    python=$(find_python "$v")
    share=()
    for i in "${!all_notebooks[@]}"; do
        if [ "${ALL_NOTEBOOKS:-0}" = "1" ] || [ $(( i % ${#versions[@]} )) -eq "$k" ]; then
            share+=("${all_notebooks[$i]}")
        fi
    done
    echo "=== Python $v ($python): install into .venv-$v, then unit tests and ${#share[@]} of ${#all_notebooks[@]} notebooks ==="
    start=$(date +%s)
    if ! make --no-print-directory env VENV=".venv-$v" PYTHON="$python"; then
        summary+=("Python $v: FAILED to install"); failed=1; continue
    fi
    if ".venv-$v/bin/python" -m pytest tests course "${share[@]}" -m "not slow" -q "${parallel[@]}"; then
        summary+=("Python $v: passed, with ${#share[@]} notebooks ($(( $(date +%s) - start )) s with the install)")
    else
        summary+=("Python $v: FAILED"); failed=1
    fi
done

echo "=== Supported Python versions ==="
printf '%s\n' "${summary[@]}"
exit $failed
