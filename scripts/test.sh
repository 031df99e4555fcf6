#!/usr/bin/env bash
# Create .venv if needed, install the package with every extra the suite uses, run all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev,trainer,gcp,compat,bench]'
exec .venv/bin/python -m pytest -n 2 -q tests/ "$@"
