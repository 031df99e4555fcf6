"""Run statistics computed inside the pipeline, so the report is the same on every runner
(Metrics are also kept, but not every runner answers metrics queries).

Every record leaves the DAG exactly once: kept at the end, rejected by a stage, or as an error.
Each exit becomes an *outcome* ``(kind, stage, reason) → (records, html_bytes, text_chars)``;
summed per key there are a few dozen keys, written as one small JSON file.
"""
from __future__ import annotations

import json

import apache_beam as beam

SAMPLES_PER_REASON = 3


def outcome_key(kind: str, record: dict) -> tuple[tuple[str, str, str], tuple[int, int, int]]:
    if kind == "kept":
        key = ("kept", "", "")
    elif kind == "rejected":
        key = ("rejected", record.get("stage") or "", record.get("reason") or "")
    else:
        key = ("error", record.get("stage") or "", record.get("kind") or "")
    return key, (1, int(record.get("html_bytes") or 0), int(record.get("text_chars") or 0))


def _sum3(values):
    a = b = c = 0
    for x, y, z in values:
        a += x
        b += y
        c += z
    return a, b, c


def _to_json(kv) -> str:
    (kind, stage, reason), (n, html_bytes, text_chars) = kv
    return json.dumps({"kind": kind, "stage": stage, "reason": reason, "records": n,
                       "html_bytes": html_bytes, "text_chars": text_chars}, sort_keys=True)


def _sample_json(kv) -> str:
    (stage, reason), recs = kv
    return json.dumps({"stage": stage, "reason": reason, "samples": recs}, ensure_ascii=False, sort_keys=True)


def _per_file_counts(pn):
    """A reader's per-file tally → outcomes: non-response records, and (ReadWarc) the records it
    emitted and the invalid crawl dates among them. ``records_read`` is this count, taken apart
    from the outcomes, so a record lost between the reader and the writers breaks the invariant."""
    yield ("skipped", "read", "non_response"), (pn[1], 0, 0)
    if len(pn) > 2:
        yield ("read", "read", "records"), (pn[2], 0, 0)
        yield ("note", "read", "crawl_date_invalid"), (pn[3], 0, 0)


def _sample_view(kind: str, r: dict) -> dict:
    text = r.get("text") or ""
    return {"id": r.get("id"), "url": r.get("url"), "kind": kind,
            "message": r.get("message"), "title": r.get("title"), "text": text[:300]}


class CountOutcomes(beam.PTransform):
    """Every exit of the DAG → ``<output>/_stats/outcomes.jsonl`` (+ skipped counts, index rows
    selected / not selected when the read is index-assisted, and a few
    sample rejects per reason, smallest ids first so the choice is deterministic).

    Applied to the pipeline root with the PCollections as arguments: each stage's rejects are
    keyed and pre-summed where they arise (the combiner runs in the producing stage), so only a
    few dozen partial sums per worker travel, never the records."""

    def __init__(self, output: str, kept, rejected: dict, errors, skipped, selection=None):
        super().__init__()
        self.prefix = f"{output.rstrip('/')}/_stats"
        self.kept, self.rejected, self.errors, self.skipped = kept, rejected, errors, skipped
        #: index-assisted read: (selected (index file, n), not_selected (reason, n)) or None
        self.selection = selection

    def expand(self, pbegin):
        parts = [
            self.kept | "KeyKept" >> beam.Map(lambda r: outcome_key("kept", r)) | "SumKept" >> beam.CombinePerKey(_sum3),
            self.errors | "KeyErrors" >> beam.Map(lambda r: outcome_key("error", r)) | "SumErrors" >> beam.CombinePerKey(_sum3),
            self.skipped | "KeySkipped" >> beam.FlatMap(_per_file_counts) | "SumSkipped" >> beam.CombinePerKey(_sum3),
        ]
        if self.selection is not None:  # index rows: read by range (selected) or never read
            selected, not_selected = self.selection
            parts += [
                selected | "KeySelected" >> beam.Map(lambda pn: (("selected", "read", "index"), (pn[1], 0, 0)))
                | "SumSelected" >> beam.CombinePerKey(_sum3),
                not_selected | "KeyNotSelected" >> beam.Map(lambda rn: (("not_selected", "read", rn[0]), (rn[1], 0, 0)))
                | "SumNotSelected" >> beam.CombinePerKey(_sum3),
            ]
        samples = [self.errors | "SampleKeyE" >> beam.Map(lambda r: ((r.get("stage"), r.get("kind")), _sample_view("error", r)))
                   | "SmallestE" >> _smallest()]
        for name, pcoll in self.rejected.items():
            parts.append(pcoll | f"Key.{name}" >> beam.Map(lambda r: outcome_key("rejected", r))
                         | f"Sum.{name}" >> beam.CombinePerKey(_sum3))
            samples.append(pcoll | f"SampleKey.{name}" >> beam.Map(
                lambda r: ((r.get("stage"), r.get("reason")), _sample_view("rejected", r)))
                | f"Smallest.{name}" >> _smallest())
        keyed = (parts | "AllOutcomes" >> beam.Flatten() | "Sum" >> beam.CombinePerKey(_sum3)
                 | "ToJson" >> beam.Map(_to_json))
        keyed | "WriteOutcomes" >> beam.io.WriteToText(
            f"{self.prefix}/outcomes", file_name_suffix=".jsonl", num_shards=1, shard_name_template="")
        (samples | "AllSamples" >> beam.Flatten() | "SamplesJson" >> beam.Map(_sample_json)
         | "WriteSamples" >> beam.io.WriteToText(
             f"{self.prefix}/samples", file_name_suffix=".jsonl", num_shards=1, shard_name_template=""))
        return keyed


def _smallest():
    return beam.combiners.Top.PerKey(SAMPLES_PER_REASON, key=lambda s: s["id"] or "", reverse=True)
