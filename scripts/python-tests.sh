#!/usr/bin/env bash
# The Python package's tests: builds and installs ./python (crmo_sim, PyO3 +
# maturin) into a venv exactly as a user would, then runs its pytest suite,
# which compares the data frames with the CSV files of the crmo-sim binary
# and runs the Python examples of README.md and docs/python.md.
#
# Usage: scripts/python-tests.sh [PYTEST ARGS...]
# Environment: PY_VENV (default target/py-venv) holds the venv, created on
# first use; PYTHON (default python3) creates it; CARGO_TARGET_DIR is
# honoured (the package build shares compiled dependencies with it).
# Exit status: pytest's (0 when every test passes).

set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
venv=${PY_VENV:-target/py-venv}
[[ "$venv" = /* ]] || venv="$root/$venv"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "python-tests: creating $venv" >&2
    "${PYTHON:-python3}" -m venv "$venv"
fi

# The package builds in the root's target directory, so the dependencies
# the root build compiled already are not compiled again.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}

start=$(date +%s)
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet ./python
echo "python-tests: pip install ./python took $(( $(date +%s) - start )) s" >&2
# The examples of the guides also plot (matplotlib) and fit (lifelines).
"$venv/bin/python" -m pip install --quiet pytest pandas matplotlib lifelines

# The binary the frames are compared with.
cargo build --release --quiet --bin crmo-sim
export CRMO_SIM_BIN="$CARGO_TARGET_DIR/release/crmo-sim"

# From the root, so `import crmo_sim` finds the installed package, not the
# source directory python/crmo_sim (which lacks the native module).
exec "$venv/bin/python" -m pytest -q python/tests "$@"
