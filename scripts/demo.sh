#!/usr/bin/env bash
# Create .venv if needed, install the package, run the real v1 pipeline on the bundled sample crawl.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
exec .venv/bin/python -m pipeline run --input 'tests/data/warc/*.warc.gz' --output demo-out --recipe v1 --overwrite "$@"
