"""Precision and recall of every prefilter mode from one run (``--lang_labels``).

An evaluation run (``PrefilterConfig.evidence``) runs every prefilter test that can matter for any
mode and writes one row per record that reached the prefilter, kept or rejected
(``_stats/prefilter_evidence.jsonl``: :func:`evidence_row`, wired in :mod:`pipeline.dag`). The
labels file (``tests/data/warc/labels.tsv``: ``record_id``, ``lang_collected``, ``content_type``)
says which records are Japanese HTML pages; :func:`prefilter_pr` replays each mode's decision
(:func:`transforms.prefilter.decide`) on the evidence and counts.
"""
from __future__ import annotations

import csv
import json
from typing import Iterable, Mapping

from apache_beam.io.filesystems import FileSystems

from transforms.prefilter import EVIDENCE_FIELDS, MODES, PrefilterConfig, decide, kana_ok
from transforms.warc_records import HTML_TYPES, record_hash

EVIDENCE_PATH = "_stats/prefilter_evidence"  # + ".jsonl", under --output


def evidence_row(record: Mapping) -> dict:
    """The small row an evaluation run stores per record that reached the prefilter (kept or
    rejected): id, url and the evidence fields; :func:`prefilter_pr` reads a list of them."""
    row = {"id": record.get("id"), "url": record.get("url")}
    for f in EVIDENCE_FIELDS:
        row[f] = record.get(f)
    return row


def load_labels(path: str) -> dict[str, dict]:
    """``labels.tsv`` → ``{record id: row}`` keyed like the pipeline's records
    (:func:`transforms.warc_records.record_hash` of ``record_id``), each row with ``positive``
    (``lang_collected == ja``) and ``html`` (an HTML response, the records the prefilter sees)."""
    with FileSystems.open(path) as f:
        text = f.read().decode("utf-8")
    out = {}
    for row in csv.DictReader(text.splitlines(), delimiter="\t"):
        ctype = (row.get("content_type") or "").split(";")[0].strip().lower()
        out[record_hash(row["record_id"])] = {
            **row,
            "positive": (row.get("lang_collected") or "").strip() == "ja",
            "html": ctype in HTML_TYPES or not ctype,
        }
    return out


def prefilter_pr(rows: Iterable[Mapping], labels: Mapping[str, Mapping],
                 cfg: PrefilterConfig = PrefilterConfig()) -> dict:
    """Precision/recall of each prefilter mode from one run's evidence.

    ``rows``: the records that reached the prefilter (kept and rejected), with ``id`` and the
    evidence fields; ``labels``: :func:`load_labels`. Positives are the labelled Japanese HTML
    responses; a positive that never reached the prefilter (e.g. a decode error) counts as a
    false negative of every mode (the corpus loses it all the same). Rows without a label are
    counted apart and ignored. A mode whose decision the evidence cannot give for some row (the
    run did not collect it: ``evidence=False``) is ``None``.

    ``cfg`` must carry the run's kana thresholds (the kana scan stops early once they hold).

    Returns ``{mode: {precision, recall, tp, fp, fn} | None}`` plus ``"_counts"``.
    """
    positives = {i for i, r in labels.items() if r.get("positive") and r.get("html", True)}
    seen: set = set()
    tp = {m: 0 for m in MODES}
    fp = {m: 0 for m in MODES}
    undecided = {m: 0 for m in MODES}
    unlabelled = 0
    for row in rows:
        rid = row.get("id")
        if rid not in labels:
            unlabelled += 1
            continue
        if rid in seen:
            continue
        seen.add(rid)
        kp = kana_ok(row.get("prefilter_kana"), row.get("prefilter_cjk"), cfg)
        for m in MODES:
            d = decide(m, row.get("prefilter_lang_attr"), row.get("prefilter_title_ja"), kp)
            if d is None:
                undecided[m] += 1
            elif d:
                if rid in positives:
                    tp[m] += 1
                else:
                    fp[m] += 1
    out: dict = {}
    for m in MODES:
        if undecided[m]:
            out[m] = None
            continue
        fn = len(positives) - tp[m]
        out[m] = {
            "precision": round(tp[m] / (tp[m] + fp[m]), 4) if tp[m] + fp[m] else None,
            "recall": round(tp[m] / len(positives), 4) if positives else None,
            "tp": tp[m], "fp": fp[m], "fn": fn,
        }
    out["_counts"] = {
        "positives": len(positives),
        "rows": len(seen),
        "positives_not_reaching_prefilter": len(positives - seen),
        "unlabelled_rows": unlabelled,
    }
    return out


def prefilter_eval(output: str, labels_path: str, prefilter_cfg: PrefilterConfig) -> dict:
    """The report's ``prefilter_eval``: :func:`prefilter_pr` over the evidence rows an evaluation
    run wrote under ``output`` and the labels at ``labels_path``."""
    from pipeline.report import _read_lines

    rows = [json.loads(x) for x in _read_lines(f"{output.rstrip('/')}/{EVIDENCE_PATH}.jsonl")]
    result = prefilter_pr(rows, load_labels(labels_path), prefilter_cfg)
    return {"mode": prefilter_cfg.mode, "labels": labels_path, **result}
