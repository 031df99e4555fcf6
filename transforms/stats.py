"""Run statistics computed inside the pipeline, so the report is the same on every runner
(Metrics are also kept, but not every runner answers metrics queries).

Every record leaves the DAG exactly once: kept at the end, rejected by a stage, or as an error.
Each exit becomes an *outcome* ``(kind, stage, reason) → (records, html_bytes, text_chars)``;
summed per key there are a few dozen keys, written as one small JSON file.
"""
from __future__ import annotations

import json

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows

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


def _sample_id(view: dict) -> str:
    return view["id"] or ""


def _smallest_samples(lists) -> list[dict]:
    """Partial sample lists → the ``SAMPLES_PER_REASON`` views with the smallest ids (associative:
    Beam may merge partial results in any grouping)."""
    return sorted((v for lst in lists for v in lst), key=_sample_id)[:SAMPLES_PER_REASON]


class _Tally(beam.DoFn):
    """One PCollection of exits (``kind``: kept, rejected or error) → per bundle, the outcome sums
    ``("sum", key, (records, html_bytes, text_chars))`` and the sample views with the smallest ids
    per (stage, reason) ``("sample", key, [views])``, given out when the bundle ends. One pass per
    record: a keyed Map and a combiner per sum and per sample cost more per record than reading a
    non-Japanese page does."""

    def __init__(self, kind: str):
        self.kind = kind

    def start_bundle(self):
        self.sums: dict = {}
        self.samples: dict = {}

    def process(self, r):
        key, (n, html_bytes, text_chars) = outcome_key(self.kind, r)
        s = self.sums.get(key)
        if s is None:
            self.sums[key] = [n, html_bytes, text_chars]
        else:
            s[0] += n
            s[1] += html_bytes
            s[2] += text_chars
        if self.kind == "kept":
            return
        skey = (r.get("stage"), r.get("kind" if self.kind == "error" else "reason"))
        rid = r.get("id") or ""
        views = self.samples.setdefault(skey, [])
        if len(views) < SAMPLES_PER_REASON or rid < _sample_id(views[-1]):
            views.append(_sample_view(self.kind, r))
            views.sort(key=_sample_id)
            del views[SAMPLES_PER_REASON:]

    def finish_bundle(self):
        for key, (n, html_bytes, text_chars) in self.sums.items():
            yield GlobalWindows.windowed_value(("sum", key, (n, html_bytes, text_chars)))
        for key, views in self.samples.items():
            yield GlobalWindows.windowed_value(("sample", key, views))


class CountOutcomes(beam.PTransform):
    """Every exit of the DAG → ``<output>/_stats/outcomes.jsonl`` (+ skipped counts, index rows
    selected / not selected when the read is index-assisted, and a few
    sample rejects per reason, smallest ids first so the choice is deterministic).

    Applied to the pipeline root with the PCollections as arguments: each exit is tallied where
    it arises (:class:`_Tally`, in the producing stage), so only a few dozen partial sums and
    samples per bundle travel, never the records."""

    def __init__(self, output: str, kept, rejected: dict, errors, skipped, selection=None):
        super().__init__()
        self.prefix = f"{output.rstrip('/')}/_stats"
        self.kept, self.rejected, self.errors, self.skipped = kept, rejected, errors, skipped
        #: index-assisted read: (selected (index file, n), not_selected (reason, n)) or None
        self.selection = selection

    def expand(self, pbegin):
        exits = [("kept", "kept", self.kept), ("error", "errors", self.errors),
                 *(("rejected", name, pcoll) for name, pcoll in self.rejected.items())]
        tallies = ([pcoll | f"Tally.{label}" >> beam.ParDo(_Tally(kind)) for kind, label, pcoll in exits]
                   | "AllTallies" >> beam.Flatten())
        parts = [
            tallies | "Sums" >> beam.FlatMap(lambda t: [(t[1], t[2])] if t[0] == "sum" else []),
            self.skipped | "KeySkipped" >> beam.FlatMap(_per_file_counts),
        ]
        if self.selection is not None:  # index rows: read by range (selected) or never read
            selected, not_selected = self.selection
            parts += [
                selected | "KeySelected" >> beam.Map(lambda pn: (("selected", "read", "index"), (pn[1], 0, 0))),
                not_selected | "KeyNotSelected" >> beam.Map(lambda rn: (("not_selected", "read", rn[0]), (rn[1], 0, 0))),
            ]
        samples = (tallies | "Samples" >> beam.FlatMap(lambda t: [(t[1], t[2])] if t[0] == "sample" else [])
                   | "Smallest" >> beam.CombinePerKey(_smallest_samples))
        keyed = (parts | "AllOutcomes" >> beam.Flatten() | "Sum" >> beam.CombinePerKey(_sum3)
                 | "ToJson" >> beam.Map(_to_json))
        keyed | "WriteOutcomes" >> beam.io.WriteToText(
            f"{self.prefix}/outcomes", file_name_suffix=".jsonl", num_shards=1, shard_name_template="")
        (samples | "SamplesJson" >> beam.Map(_sample_json)
         | "WriteSamples" >> beam.io.WriteToText(
             f"{self.prefix}/samples", file_name_suffix=".jsonl", num_shards=1, shard_name_template=""))
        return keyed

