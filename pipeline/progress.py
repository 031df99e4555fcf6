"""Progress and ETA: files done / total, records/s, ETA.

Two sources, one display:

- **Inside the pipeline** (every runner): the counters of
  :class:`pipeline.progress_metrics.TrackProgress`. A remote run's are polled from the job;
  local runners (FnApiRunner, the PortableRunner's embedded job service) cannot be queried for
  metrics while running, so :class:`ProgressMonitor` sums the heartbeat files the same DoFns
  write.
- **Between batches** (``python -m pipeline refresh``): exact files done / total from the
  manifest, via :class:`Progress`.

The percentage is the share of records that have left the DAG (written as documents, rejects or
errors) of the total extrapolated from the files read so far (``records_read × files_total /
files_read``). Aggregating stages (dedup's groupings and its connected-components rounds, the
host filter's per-host sums) hold every record until their input is complete, so that share
stalls and then jumps; the line therefore also names the **current stage** -- the first, in DAG
order, that has not finished (every page the previous stage kept has come out of it): records
into each stage, kept by it and rejected or failed in it are counted (``stage_in.NAME``,
``stage_kept.NAME``, ``stage_out.NAME``), and each round of dedup's connected components
(``dedup_round.NN``), so it reads ``dedup round 3/20`` rather than a percentage. The ETA is that of the current stage only
(its remaining records at its own rate since it became current: the read's from the files read),
and ``?`` where no rate exists yet -- an aggregating stage that has emitted nothing -- rather than
a whole-run extrapolation that grows while a grouping runs.
"""
from __future__ import annotations

import glob
import json
import os
import sys
import threading
import time

from pipeline.progress_metrics import NAMESPACE


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "?"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}"


class Progress:
    """Progress of a run in units of files and records; :meth:`line` is what the terminal shows."""

    def __init__(self, files_total: int, label: str = "", started: float | None = None,
                 stages: list[str] | None = None, rounds: dict[str, int] | None = None, clock=time.time):
        self.files_total = files_total
        self.label = label
        self.clock = clock
        self.started = clock() if started is None else started
        self.files_done = 0
        self.records_read = 0
        self.records_done = 0
        self.stages = list(stages or [])  # DAG order, after the read
        self.counts: dict[str, int] = {}  # stage_in/kept/out.*, dedup_round.*
        self.rounds = dict(rounds or {})  # stage -> rounds in its graph (dedup: max_rounds)
        self._current: tuple[str, float, int] | None = None  # (stage, since, done then)

    def update(self, files_done: int | None = None, records_done: int | None = None,
               records_read: int | None = None, counts: dict[str, int] | None = None) -> "Progress":
        if files_done is not None:
            self.files_done = files_done
        if records_done is not None:
            self.records_done = records_done
        if records_read is not None:
            self.records_read = records_read
        if counts is not None:
            self.counts = dict(counts)
        return self

    def current_stage(self) -> dict | None:
        """The first stage in DAG order that has not finished: ``{"stage", "detail", "eta_s"}``;
        None without stage counts (e.g. between ``refresh`` batches)."""
        if not self.stages:
            return None
        now = self.clock()
        if self.files_total and self.files_done < self.files_total:
            f = self.files_done / self.files_total
            return self._at("read", f"read {self.records_read:,} records", now,
                            self.elapsed * (1 - f) / f if f else None)
        # A stage is finished when every page the previous stage kept has come out of it (kept,
        # rejected or error). Its own input count is not enough: between stages sit shuffles, and
        # a stage that has received nothing yet is waiting, not done.
        expected = self.counts.get("stage_kept.read")
        for name in self.stages:
            n_in = self.counts.get(f"stage_in.{name}", 0)
            kept = self.counts.get(f"stage_kept.{name}", 0)
            n_done = kept + self.counts.get(f"stage_out.{name}", 0)
            total = max(n_in, expected if expected is not None else 0)
            if n_done >= total:
                expected = kept
                continue
            rounds = sorted(int(k.rsplit(".", 1)[1]) for k, v in self.counts.items()
                            if k.startswith(f"{name}_round.") and v)
            if rounds and not n_done:
                detail = f"{name} round {rounds[-1]}/{self.rounds.get(name) or '?'} ({n_in:,} pages in)"
            else:
                detail = f"{name} {n_done:,}/{total:,} pages"
            return self._at(name, detail, now, None, n_done, total)
        if self.records_done < self.records_read:
            return self._at("write", "writing outputs", now, None)
        return self._at("done", "all stages done", now, 0.0)

    def _at(self, name: str, detail: str, now: float, eta: float | None,
            done: int = 0, total: int = 0) -> dict:
        if self._current is None or self._current[0] != name:
            self._current = (name, now, done)
        _, since, done_then = self._current
        if eta is None and total and done > done_then and now > since:
            eta = (total - done) * (now - since) / (done - done_then)
        return {"stage": name, "detail": detail, "eta_s": eta}

    @property
    def elapsed(self) -> float:
        return max(self.clock() - self.started, 1e-9)

    def fraction(self) -> float | None:
        if not self.files_total:
            return None
        if self.files_done and self.records_read:
            est_total = self.records_read * self.files_total / self.files_done
            return min(1.0, self.records_done / est_total) if est_total else None
        return self.files_done / self.files_total

    def eta_s(self) -> float | None:
        f = self.fraction()
        if not f:
            return None
        return self.elapsed * (1 - f) / f

    def as_dict(self) -> dict:
        cur = self.current_stage()
        return {"files_done": self.files_done, "files_total": self.files_total,
                "records_read": self.records_read, "records_done": self.records_done,
                "records_per_s": round(self.records_done / self.elapsed, 2),
                "elapsed_s": round(self.elapsed, 1),
                "eta_s": self.eta_s() if cur is None else cur["eta_s"],
                **({"stage": cur["stage"], "stage_detail": cur["detail"], "stages": self.stage_counts()}
                   if cur else {})}

    def stage_counts(self) -> dict[str, dict[str, int]]:
        """Records into and out of each stage (and rounds seen, for dedup), in DAG order."""
        out = {}
        for name in self.stages:
            kept = self.counts.get(f"stage_kept.{name}", 0)
            row = {"in": self.counts.get(f"stage_in.{name}", 0), "kept": kept,
                   "done": kept + self.counts.get(f"stage_out.{name}", 0)}
            seen = [k for k, v in self.counts.items() if k.startswith(f"{name}_round.") and v]
            if name in self.rounds:
                row.update(rounds_seen=len(seen), rounds=self.rounds[name])
            out[name] = row
        return out

    def line(self) -> str:
        d = self.as_dict()
        f = self.fraction()
        pct = f"{100 * f:5.1f}%" if f is not None else "    ?"
        if "stage" not in d:
            return (f"{self.label}{pct} files {d['files_done']}/{d['files_total']} | records done "
                    f"{d['records_done']:,} ({d['records_per_s']:,.1f}/s) | elapsed "
                    f"{fmt_duration(d['elapsed_s'])} | ETA {fmt_duration(d['eta_s'])}")
        return (f"{self.label}{pct} out | {d['stage_detail']} | files {d['files_done']}/{d['files_total']} | "
                f"records out {d['records_done']:,} ({d['records_per_s']:,.1f}/s) | elapsed "
                f"{fmt_duration(d['elapsed_s'])} | ETA {d['stage']} {fmt_duration(d['eta_s'])}")


def read_heartbeats(directory: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for path in glob.glob(os.path.join(directory, "*.json")):
        try:
            with open(path) as f:
                for k, v in json.load(f).items():
                    totals[k] = totals.get(k, 0) + int(v)
        except (OSError, ValueError):
            continue  # being replaced right now
    return totals


def forget_metrics(result) -> None:
    """Make the next ``result.metrics()`` ask the job service again: the portable runner's result
    (FlinkRunner, SparkRunner, PortableRunner) keeps the first answer for good
    (``PipelineResult.metrics`` in ``apache_beam/runners/portability/portable_runner.py``), so a
    poll during the run would freeze progress, and the report would get mid-run counts."""
    from apache_beam.runners.portability.portable_runner import PipelineResult

    if isinstance(result, PipelineResult):
        result._metrics = None


def query_progress(result) -> dict[str, int] | None:
    """The ``swallow_progress`` metrics of a (running or finished) pipeline, where queryable."""
    try:
        from apache_beam.metrics.metric import MetricsFilter

        forget_metrics(result)
        res = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))
    except Exception:
        return None
    out: dict[str, int] = {}
    for c in res.get("counters", []):
        v = c.committed if c.committed is not None else c.attempted
        out[c.key.metric.name] = out.get(c.key.metric.name, 0) + int(v or 0)
    for g in res.get("gauges", []):
        v = g.committed if g.committed is not None else g.attempted
        if v is not None:
            out[g.key.metric.name] = int(v.value)
    return out


class ProgressMonitor:
    """Prints progress to the terminal while a run is going (a context manager: drawn every
    ``every_s`` seconds from ``with`` to its end, then once more): sums heartbeat files (local
    runners) or polls metrics of a non-blocking ``PipelineResult`` (remote runners)."""

    def __init__(self, files_total: int, heartbeat_dir: str | None = None, result=None,
                 every_s: float = 5.0, stream=None, label: str = "", stages: list[str] | None = None,
                 rounds: dict[str, int] | None = None):
        self.progress = Progress(files_total, label=label, stages=stages, rounds=rounds)
        self.heartbeat_dir, self.result, self.every_s = heartbeat_dir, result, every_s
        self.stream = stream or sys.stderr
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lines: list[str] = []

    def poll(self) -> Progress:
        counts: dict[str, int] | None = None
        if self.result is not None:
            counts = query_progress(self.result)
        if not counts and self.heartbeat_dir:
            counts = read_heartbeats(self.heartbeat_dir)
        if counts:
            self.progress.update(files_done=counts.get("files_read"), records_done=counts.get("records_done"),
                                 records_read=counts.get("records_read"), counts=counts)
        return self.progress

    def show(self) -> str:
        line = self.poll().line()
        self.lines.append(line)
        if hasattr(self.stream, "progress"):  # a pipeline.console.Console: log lines go above it
            self.stream.progress(line)
            return line
        tty = getattr(self.stream, "isatty", lambda: False)()
        self.stream.write(("\r" + line) if tty else line + "\n")
        self.stream.flush()
        return line

    def _loop(self):
        while not self._stop.wait(self.every_s):
            self.show()

    def __enter__(self):
        self._thread = threading.Thread(target=self._loop, name="swallow-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        self.show()
        if hasattr(self.stream, "end"):
            self.stream.end()
        elif getattr(self.stream, "isatty", lambda: False)():
            self.stream.write("\n")
        return False


def count_inputs(patterns: list[str]) -> int:
    """Number of distinct files the input globs match, named as the reader names them (on the
    launcher; cheap listing; a pattern that cannot be listed counts nothing here)."""
    from transforms.read_warc import match_inputs

    return len(match_inputs(patterns, skip_unlistable=True)[0])
