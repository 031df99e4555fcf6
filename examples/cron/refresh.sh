#!/usr/bin/env bash
# Cron wrapper for the scheduled corpus refresh. Crontab (weekly, Monday 03:00):
#   0 3 * * 1  /opt/swallow/examples/cron/refresh.sh >> /var/log/swallow-refresh.log 2>&1
#
# Finds the newest Common Crawl snapshot (or takes SNAPSHOT=CC-MAIN-YYYY-WW), then runs
# `python -m pipeline refresh`, which processes only the WARC files not yet in the manifest: a
# crashed or killed run is simply continued by the next tick. flock keeps one refresh per ROOT.
set -euo pipefail

ROOT="${ROOT:-gs://my-bucket/swallow}"              # corpus root (manifest, versions)
RECIPE="${RECIPE:-v1}"
VENV="${VENV:-/opt/swallow/.venv}"
LOCK="${LOCK:-/var/lock/swallow-refresh.lock}"
BATCH_FILES="${BATCH_FILES:-1000}"
# Runner options; default Dataflow with the worker image (see runbooks/dataflow.md).
RUNNER_ARGS="${RUNNER_ARGS:---runner=DataflowRunner --project=my-project --region=us-central1 \
--temp_location=gs://my-bucket/tmp --sdk_container_image=us-central1-docker.pkg.dev/my-project/swallow/worker:0.1.0 \
--experiments=use_runner_v2 --max_num_workers=500 --no_progress}"

if [[ -z "${SNAPSHOT:-}" ]]; then
  # collinfo.json lists the crawls, newest first.
  SNAPSHOT="$(curl -fsS https://index.commoncrawl.org/collinfo.json \
              | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
fi
[[ "$SNAPSHOT" =~ ^CC-MAIN-[0-9]{4}-[0-9]{2}$ ]] || { echo "bad snapshot id: $SNAPSHOT" >&2; exit 2; }
INPUT="${INPUT:-gs://my-bucket/commoncrawl/crawl-data/${SNAPSHOT}/segments/*/warc/*.warc.gz}"

exec 9>"$LOCK"
if ! flock -n 9; then
  echo "$(date -Is) another refresh holds $LOCK; skipping this tick"
  exit 0
fi

. "$VENV/bin/activate"
echo "$(date -Is) refresh $SNAPSHOT -> $ROOT"
# shellcheck disable=SC2086
python -m pipeline refresh --input "$INPUT" --output "$ROOT" --snapshot "$SNAPSHOT" \
  --recipe "$RECIPE" --batch_files "$BATCH_FILES" $RUNNER_ARGS
echo "$(date -Is) done: $(gsutil cat "$ROOT/CURRENT" 2>/dev/null || cat "$ROOT/CURRENT" 2>/dev/null || true)"
