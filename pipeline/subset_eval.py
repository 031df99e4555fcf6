"""A domain subset's precision and recall against a labels file (``--subset_labels``).

The subset stage of an evaluation run writes one row per page it saw
(``_stats/subset_evidence.jsonl``: id, url, score, selected; :mod:`transforms.subset`). The labels
file says which pages belong to the domain:

- TSV with a header, or JSONL;
- a key column: ``record_id`` (a WARC-Record-ID, hashed to the page id as the reader does), ``id``
  or ``url``;
- a label column: one named as the subset (``medical``: 0/1), else ``label`` (0/1), else
  ``kind`` (1 where it equals the subset's name: ``../shared/data/warc_sites/sites.tsv`` works as
  it is, with its site-level labels).

Precision and recall are over the labelled pages that reached the subset stage (pages dropped
earlier, by v2's rules or dedup, are not counted), with ROC-AUC of the score over the same pages.
"""
from __future__ import annotations

import csv
import io
import json

from apache_beam.io.filesystems import FileSystems


def _rows(path: str) -> list[dict]:
    with FileSystems.open(path) as f:
        data = f.read().decode("utf-8")
    if path.endswith((".jsonl", ".json")):
        return [json.loads(x) for x in data.splitlines() if x.strip()]
    return list(csv.DictReader(io.StringIO(data), delimiter="\t"))


def load_labels(path: str, subset: str) -> dict[str, int]:
    """Page key (``id:<id>`` or ``url:<url>``) → 0/1."""
    from transforms.warc_records import record_hash

    rows = _rows(path)
    if not rows:
        raise ValueError(f"{path}: no rows")
    cols = set(rows[0])
    label_col = next((c for c in (subset, "label", "kind") if c in cols), None)
    if label_col is None:
        raise ValueError(f"{path}: needs a {subset!r}, 'label' or 'kind' column; has {sorted(cols)}")
    out = {}
    for r in rows:
        v = r.get(label_col)
        if v in (None, ""):
            continue
        y = int(str(v) == subset) if label_col == "kind" else int(float(v))
        if r.get("record_id"):
            out["id:" + record_hash(r["record_id"])] = y
        elif r.get("id"):
            out["id:" + str(r["id"])] = y
        elif r.get("url"):
            out["url:" + r["url"]] = y
    if not out:
        raise ValueError(f"{path}: no row has a record_id, id or url with a label")
    return out


def subset_eval(output: str, labels_path: str, cfg) -> dict:
    """Precision/recall/ROC-AUC of the run's subset selection on the labelled pages."""
    from pipeline.report import _read_lines

    labels = load_labels(labels_path, cfg.name)
    rows = [json.loads(x) for x in _read_lines(f"{output.rstrip('/')}/_stats/subset_evidence.jsonl")]
    gold, pred, scores = [], [], []
    for r in rows:
        y = labels.get(f"id:{r['id']}", labels.get(f"url:{r['url']}"))
        if y is None or r.get("score") is None:
            continue
        gold.append(y)
        pred.append(bool(r["selected"]))
        scores.append(float(r["score"]))
    tp = sum(g and p for g, p in zip(gold, pred))
    fp = sum((not g) and p for g, p in zip(gold, pred))
    fn = sum(g and not p for g, p in zip(gold, pred))
    out = {"subset": cfg.name, "labels": labels_path, "pages_seen": len(rows), "pages_labelled": len(gold),
           "positives": sum(gold), "tp": tp, "fp": fp, "fn": fn,
           "precision": tp / (tp + fp) if tp + fp else None,
           "recall": tp / (tp + fn) if tp + fn else None, "roc_auc": None}
    if 0 < sum(gold) < len(gold):
        out["roc_auc"] = roc_auc(gold, scores)
    return out


def roc_auc(gold: list[int], scores: list[float]) -> float:
    """Mann–Whitney U / (positives × negatives), ties counted half (no scikit-learn needed)."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    pos = sum(gold)
    neg = len(gold) - pos
    u = sum(r for r, g in zip(ranks, gold) if g) - pos * (pos + 1) / 2
    return u / (pos * neg)
