#!/usr/bin/env bash
# Cloud Scheduler → Dataflow Flex Template (docker/flex_template/). Each tick launches the
# template with command=refresh, max_batches=1: one Dataflow job for the next batch of WARC
# files not yet in the manifest; ticks continue until the snapshot is complete, after which a
# tick is a no-op (nothing to do). Hourly ticks with batch_files=1000 finish a 90k-file snapshot
# in ~90 launches; edit launch_body.json's "input" per snapshot (or let the cron wrapper pick it).
set -euo pipefail
PROJECT="${PROJECT:-my-project}"
REGION="${REGION:-us-central1}"
SA="${SA:-swallow-scheduler@${PROJECT}.iam.gserviceaccount.com}"   # roles/dataflow.developer
HERE="$(cd "$(dirname "$0")" && pwd)"

gcloud scheduler jobs create http swallow-refresh \
  --project="$PROJECT" --location="$REGION" \
  --schedule="0 * * * *" --time-zone="Etc/UTC" \
  --uri="https://dataflow.googleapis.com/v1b3/projects/${PROJECT}/locations/${REGION}/flexTemplates:launch" \
  --http-method=POST \
  --oauth-service-account-email="$SA" \
  --headers="Content-Type=application/json" \
  --message-body-from-file="$HERE/launch_body.json"
