"""Runner-independent view of a run's output, for comparing runners."""
from __future__ import annotations

import glob
import json
import os


def _rows(out: str, sub: str, columns: list[str] | None = None) -> list[tuple]:
    import pyarrow.parquet as pq

    rows = []
    for path in sorted(glob.glob(os.path.join(out, sub, "*.parquet"))):
        t = pq.read_table(path, columns=columns)
        names = t.column_names
        for r in t.to_pylist():
            rows.append(tuple((k, r[k]) for k in names))
    return sorted(rows, key=repr)


def snapshot(out: str) -> dict:
    """Documents (all columns), rejects and errors (ids + reason), outcome counts: sorted."""
    with open(os.path.join(out, "_stats", "outcomes.jsonl")) as f:
        outcomes = sorted(json.loads(x)["kind"] + "|" + json.dumps(json.loads(x), sort_keys=True)
                          for x in f if x.strip())
    return {
        "documents": _rows(out, "documents"),
        "rejects": _rows(out, "rejects", ["id", "stage", "reason", "warc_file"]),
        "errors": _rows(out, "errors", ["id", "stage", "kind", "warc_file"]),
        "outcomes": outcomes,
    }
