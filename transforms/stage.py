"""The contract every stage follows.

A *record* is a plain ``dict`` (fields: :mod:`transforms.schema`). A stage is a composite
``beam.PTransform`` from a PCollection of records to a dict of three PCollections:

- ``kept``: records that go on to the next stage;
- ``rejected``: records a rule dropped, with ``stage`` and a versioned ``reason`` code;
- ``errors``: records that could not be processed, with ``stage``, ``kind`` and ``message``
  (naming the WARC file and offset).

Every record that enters a stage leaves it in exactly one of the three, which is what makes the
run report's invariant ``read = kept + Σ dropped + Σ errors`` hold. Counters are Beam Metrics in
the stage's namespace, one per reason and error kind.

Per-record stages wrap a *rule*: a picklable object with a ``name``, an optional ``setup()`` (load
models once per worker) and ``__call__(record) -> (record, reason | None)``. The rule is pure with
respect to Beam; :class:`ApplyRule` is the only DoFn, and it holds no rule logic.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.records import (  # noqa: F401  (re-exported for stage modules)
    HEAVY_FIELDS, RecordError, Rule, error_record, reject_record, where,
)

KEPT = "kept"
REJECTED = "rejected"
ERRORS = "errors"

NAMESPACE = "swallow"

log = logging.getLogger(__name__)

class StageCounters:
    """Lazily created Metrics counters ``<stage>.kept``, ``<stage>.dropped.<reason>``, ``<stage>.error.<kind>``."""

    def __init__(self, stage: str):
        self.stage = stage
        self._c: dict[str, Any] = {}

    def inc(self, name: str, n: int = 1) -> None:
        c = self._c.get(name)
        if c is None:
            c = self._c[name] = Metrics.counter(NAMESPACE, f"{self.stage}.{name}")
        c.inc(n)

    def kept(self, n: int = 1) -> None:
        self.inc("kept", n)

    def dropped(self, reason: str, n: int = 1) -> None:
        self.inc(f"dropped.{reason}", n)

    def error(self, kind: str, n: int = 1) -> None:
        self.inc(f"error.{kind}", n)


class ApplyRule(beam.DoFn):
    """Runs a rule on each record; routes to kept / rejected / errors and counts. No rule logic here."""

    def __init__(self, rule: Rule):
        self.rule = rule
        self.counters: StageCounters | None = None

    def setup(self):
        setup = getattr(self.rule, "setup", None)
        if setup is not None:
            setup()
        self.counters = StageCounters(self.rule.name)

    def teardown(self):
        teardown = getattr(self.rule, "teardown", None)
        if teardown is not None:
            teardown()

    def process(self, record: dict) -> Iterable:
        yield from route(self.rule, record, self.counters)


def error_output(counters: StageCounters, error: dict) -> beam.pvalue.TaggedOutput:
    """An error record (:func:`error_record`), counted under its ``kind``, for the errors output."""
    counters.error(error["kind"])
    return beam.pvalue.TaggedOutput(ERRORS, error)


def exception_output(counters: StageCounters, record: dict, e: Exception) -> beam.pvalue.TaggedOutput:
    """A bug or a pathological input in a stage: logged and counted as ``<stage>_exception``, an
    error record instead of a crash."""
    stage = counters.stage
    kind = f"{stage}_exception"
    log.warning("%s: %s on %s: %r", stage, kind, where(record), e)
    return error_output(counters, error_record(record, stage, kind, f"{type(e).__name__}: {e}"))


def route(rule: Callable[[dict], tuple[dict, str | None]], record: dict, counters: StageCounters):
    """Apply ``rule`` and yield the record to exactly one of the three outputs."""
    stage = counters.stage
    try:
        out, reason = rule(record)
    except RecordError as e:
        yield error_output(counters, error_record(record, stage, e.kind, e.message))
        return
    except Exception as e:  # a bug or a pathological input: counted, never a crash
        yield exception_output(counters, record, e)
        return
    if reason is None:
        counters.kept()
        yield out
    else:
        counters.dropped(reason)
        yield beam.pvalue.TaggedOutput(REJECTED, reject_record(out, stage, reason))


class RuleStage(beam.PTransform):
    """A per-record stage: one rule, three outputs. Subclasses only build the rule."""

    #: Parquet columns this stage adds to kept records (name -> pyarrow type factory name).
    columns: dict[str, str] = {}

    def __init__(self, rule: Rule, label: str | None = None):
        super().__init__(label or rule.name)
        self.rule = rule

    def expand(self, records):
        out = records | "Apply" >> beam.ParDo(ApplyRule(self.rule)).with_outputs(
            REJECTED, ERRORS, main=KEPT
        )
        return {KEPT: out[KEPT], REJECTED: out[REJECTED], ERRORS: out[ERRORS]}
