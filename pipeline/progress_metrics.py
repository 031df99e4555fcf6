"""Progress counters inside the pipeline, on every runner: :class:`TrackProgress` adds Beam
Metrics in the ``swallow_progress`` namespace: ``files_total`` (gauge), ``files_read`` (a file
counts once it has been read to its end), ``records_read`` and ``records_done`` (records that left
the DAG: written as documents, rejects or errors), records into, kept by and out of each stage
(``stage_in.NAME``, ``stage_kept.NAME``, ``stage_out.NAME``) and each round of dedup's connected
components (``dedup_round.NN``). On Dataflow/Flink/Spark these are the job's custom counters
(Dataflow UI "Custom counters", Flink web UI metrics, Spark UI accumulators through the job
server). Local runners cannot be queried for metrics while running, so the same DoFns also drop a
small heartbeat file per worker into a local directory. The terminal side -- summing, the line,
the ETA -- is :mod:`pipeline.progress`.
"""
from __future__ import annotations

import json
import os
import time
import uuid

import apache_beam as beam
from apache_beam.metrics import Metrics

NAMESPACE = "swallow_progress"
HEARTBEAT_EVERY_S = 2.0
FLUSH_EVERY = 256


class _Count(beam.DoFn):
    """Counts elements into Metrics counters (one PCollection may feed several: the read's kept
    records are also the first stage's input); optionally keeps a local heartbeat file.

    Counts are added in blocks of :data:`FLUSH_EVERY` elements (and at the end of each bundle):
    a per-element ``inc`` and clock read cost more than the rules on a non-Japanese record."""

    def __init__(self, names, heartbeat_dir: str | None):
        self.names = (names,) if isinstance(names, str) else tuple(names)
        self.heartbeat_dir = heartbeat_dir

    def setup(self):
        self.counters = [Metrics.counter(NAMESPACE, n) for n in self.names]
        self.total = 0
        self.pending = 0
        self.last = 0.0
        self.path = (os.path.join(self.heartbeat_dir, f"{self.names[0]}-{uuid.uuid4().hex}.json")
                     if self.heartbeat_dir else None)

    def _beat(self, force: bool = False):
        if not self.path:
            return
        now = time.time()
        if force or now - self.last >= HEARTBEAT_EVERY_S:
            self.last = now
            try:
                tmp = self.path + ".tmp"
                with open(tmp, "w") as f:
                    json.dump({n: self.total for n in self.names}, f)
                os.replace(tmp, self.path)
            except OSError:  # progress must never fail a run
                self.path = None

    def _flush(self):
        if self.pending:
            for c in self.counters:
                c.inc(self.pending)
            self.total += self.pending
            self.pending = 0

    def process(self, element):
        self.pending += 1
        if self.pending >= FLUSH_EVERY:
            self._flush()
            self._beat()

    def finish_bundle(self):
        self._flush()
        self._beat(force=True)


class _SetGauge(beam.DoFn):
    def __init__(self, name: str):
        self.name = name

    def process(self, value):
        Metrics.gauge(NAMESPACE, self.name).set(int(value))


class TrackProgress(beam.PTransform):
    """Attach progress counters to a built pipeline (what :func:`pipeline.dag.build` returns):
    ``read`` = the reader's outputs, ``exits`` = the DAG's terminal PCollections (documents,
    rejected, errors), ``stages`` = per stage ``(name, input, [kept, rejected, errors])`` in DAG
    order, ``rounds`` = per stage its round number -> PCollection."""

    def __init__(self, files_total: int, read: dict | None, exits: list, heartbeat_dir: str | None = None,
                 stages: list | None = None, rounds: dict[str, dict] | None = None):
        super().__init__()
        self.files_total, self.read, self.exits, self.heartbeat_dir = files_total, read, exits, heartbeat_dir
        self.stages, self.rounds = stages or [], rounds or {}

    def expand(self, pbegin):
        hb = self.heartbeat_dir
        (pbegin | "FilesTotal" >> beam.Create([self.files_total])
         | "SetFilesTotal" >> beam.ParDo(_SetGauge("files_total")))
        # One counting ParDo per PCollection (with every counter that PCollection feeds), never a
        # Flatten: a Flatten of ReadWarc's outputs made the runner ship every record, HTML and
        # all, through its data plane (measured: 2.4 ms per record with 2 worker processes
        # instead of 0.7 ms).
        counted: dict[int, tuple] = {}  # id(pcoll) -> (label, pcoll, [counter names])

        def count(label, pcoll, name):
            counted.setdefault(id(pcoll), (label, pcoll, []))[2].append(name)
        if self.read:
            if "skipped" in self.read:  # one (path, n) per file, once the file is read to its end
                count("FilesRead", self.read["skipped"], "files_read")
            for k in ("kept", "rejected", "errors"):
                if k in self.read:
                    count(f"RecordsRead.{k}", self.read[k], "records_read")
            if "kept" in self.read and self.stages:  # what the first stage will receive
                count("StageKept.read", self.read["kept"], "stage_kept.read")
        for i, pcoll in enumerate(self.exits):
            count(f"RecordsDone.{i}", pcoll, "records_done")
        # Records into and out of every stage: which stage the run is in, and how far.
        for name, inp, outs in self.stages:
            count(f"StageIn.{name}", inp, f"stage_in.{name}")
            kept, *gone = outs
            count(f"StageKept.{name}", kept, f"stage_kept.{name}")
            for j, pcoll in enumerate(gone):
                count(f"StageOut.{name}.{j}", pcoll, f"stage_out.{name}")
        for name, by_round in self.rounds.items():
            for r, pcoll in sorted(by_round.items()):
                count(f"Round.{name}.{r:02d}", pcoll, f"{name}_round.{r:02d}")
        for label, pcoll, names in counted.values():
            pcoll | label >> beam.ParDo(_Count(names, hb))
        return pbegin
