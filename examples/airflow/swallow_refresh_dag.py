"""Airflow DAG: weekly corpus refresh on the newest Common Crawl snapshot.

Two tasks: pick the snapshot, then ``python -m pipeline refresh`` (resumable: a failed try is
retried and continues from the manifest, so ``retries`` is safe). The refresh itself submits
Dataflow jobs (or Flink/Spark: change RUNNER_ARGS); Airflow only orchestrates. Put this file in
the DAGs folder of an environment that has this package installed (e.g. Cloud Composer with
``swallow-corpus[gcp]`` as a PyPI package), and set the Airflow Variables ``swallow_root`` and
``swallow_runner_args``.
"""
from __future__ import annotations

import datetime as dt
import json
import urllib.request

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator

DEFAULT_RUNNER_ARGS = ("--runner=DataflowRunner --project=my-project --region=us-central1 "
                       "--temp_location=gs://my-bucket/tmp --experiments=use_runner_v2 "
                       "--sdk_container_image=us-central1-docker.pkg.dev/my-project/swallow/worker:0.1.0 "
                       "--no_progress")


def latest_snapshot() -> str:
    with urllib.request.urlopen("https://index.commoncrawl.org/collinfo.json", timeout=60) as r:
        return json.load(r)[0]["id"]


with DAG(
    dag_id="swallow_corpus_refresh",
    start_date=dt.datetime(2024, 1, 1),
    schedule="0 3 * * 1",
    catchup=False,
    max_active_runs=1,  # one refresh per corpus root
    default_args={"retries": 3, "retry_delay": dt.timedelta(minutes=30)},
    tags=["swallow", "corpus"],
) as dag:
    snapshot = PythonOperator(task_id="latest_snapshot", python_callable=latest_snapshot)
    refresh = BashOperator(
        task_id="refresh",
        bash_command=(
            "python -m pipeline refresh"
            " --snapshot {{ ti.xcom_pull(task_ids='latest_snapshot') }}"
            " --input 'gs://my-bucket/commoncrawl/crawl-data/{{ ti.xcom_pull(task_ids='latest_snapshot') }}"
            "/segments/*/warc/*.warc.gz'"
            " --output '{{ var.value.get('swallow_root', 'gs://my-bucket/swallow') }}'"
            " --recipe v1 --batch_files 1000 "
            "{{ var.value.get('swallow_runner_args', params.runner_args) }}"
        ),
        params={"runner_args": DEFAULT_RUNNER_ARGS},  # Variables are read at run time, not parse time
        execution_timeout=dt.timedelta(days=3),
    )
    snapshot >> refresh
