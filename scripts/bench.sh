#!/usr/bin/env bash
# Benchmarks from a fresh clone: create .venv if needed, add the bench extra, run python -m bench.
# Usage: bash scripts/bench.sh all|spine|marginal|cost [options]   (python -m bench --help)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[bench]'
exec .venv/bin/python -m bench "$@"
