"""Record fields and the Parquet schema of the output.

Base fields are set by ReadWarc/Decode/Extract; each later stage adds its measured values as
columns (``columns`` on the stage transform), so thresholds can be re-applied later without
recomputing (as dolma does).
"""
from __future__ import annotations

import pyarrow as pa

# Where a record came from: the first columns of every output.
PROVENANCE: dict[str, pa.DataType] = {
    "id": pa.string(),
    "url": pa.string(),
    "host": pa.string(),
    "crawl_date": pa.string(),
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


def project(record: dict, columns: dict[str, pa.DataType]) -> dict:
    """The record restricted to ``columns`` (missing → None), ready for the Parquet writer."""
    return {k: record.get(k) for k in columns}
