"""Record fields and the Parquet schema of the output.

Base fields are set by ReadWarc/Decode/Extract; each later stage adds its measured values as
columns (``columns`` on the stage transform), so thresholds can be re-applied later without
recomputing (as dolma does).
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

import pyarrow as pa

#: ``crawl_date`` in the Parquet: a real UTC timestamp (pandas, Spark, DuckDB and ``datasets``
#: read it as one), microseconds as WARC/1.1 allows fractional seconds.
UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")

# Where a record came from: the first columns of every output.
PROVENANCE: dict[str, pa.DataType] = {
    "id": pa.string(),
    "url": pa.string(),
    "host": pa.string(),
    "crawl_date": UTC_TIMESTAMP,
    "warc_file": pa.string(),
    "warc_offset": pa.int64(),
}

BASE_COLUMNS: dict[str, pa.DataType] = {
    **PROVENANCE,
    "charset": pa.string(),
    "html_bytes": pa.int64(),
    "title": pa.string(),
    "text": pa.string(),
    "text_chars": pa.int64(),
    "lang": pa.string(),
    "lang_score": pa.float64(),
}

REJECT_COLUMNS: dict[str, pa.DataType] = {
    **PROVENANCE,
    "stage": pa.string(),
    "reason": pa.string(),
    "html_bytes": pa.int64(),
    "text_chars": pa.int64(),
    "title": pa.string(),
    "text": pa.string(),
    "duplicate_of": pa.string(),
    # decontamination: the benchmark suite and item a page contained (transforms/decontaminate.py)
    "eval_suite": pa.string(),
    "eval_item": pa.string(),
}

ERROR_COLUMNS: dict[str, pa.DataType] = {
    **{k: t for k, t in PROVENANCE.items() if k != "crawl_date"},
    "html_bytes": pa.int64(),
    "text_chars": pa.int64(),
    "stage": pa.string(),
    "kind": pa.string(),
    "message": pa.string(),
}


def schema(columns: dict[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(k, t) for k, t in columns.items()])


def utc_timestamp(value) -> datetime | None:
    """A WARC-Date (ISO 8601, ``2015-10-24T10:17:33Z``) as an aware UTC datetime; None if absent
    or unparseable. Records keep the string (dedup orders on it); only the writer converts."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        d = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (d if d.tzinfo else d.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def absolute_location(path: str) -> str:
    """A file or glob as an absolute location: URIs (``gs://``, ``s3://``...) unchanged, local
    paths made absolute, so ``warc_file`` does not depend on the directory the run started in.
    (Beam's filesystems have no ``file://`` scheme: an absolute path is the local form.)"""
    if "://" in path:
        return path
    return os.path.abspath(os.path.expanduser(path))
