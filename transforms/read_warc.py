"""ReadWarc: WARC files on any filesystem → one record per HTML ``response``.

The stage lists the input globs (on the workers; :func:`match_inputs` on the launcher, to fail
fast and to count files), spreads the files over the workers and reads each with
:func:`transforms.warc_records.iter_warc`, whose docstring holds the counting rules: every WARC
``response`` record leaves as kept, rejected or an error, and the records emitted per file are
counted apart (``skipped`` output), so the run report's ``records_read == kept + dropped +
errors`` can fail when a later stage loses a record.
"""
from __future__ import annotations

import os

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystems import FileSystems

from transforms.schema import absolute_location
from transforms.stage import ERRORS, KEPT, REJECTED, StageCounters, error_output
from transforms.warc_records import SKIPPED, STAGE, ReadConfig, iter_warc


def canonical_path(path: str) -> str:
    """One name per file: local paths with symlinks and ``..`` resolved (a file given twice, or
    through a link, is read once); URIs unchanged."""
    return path if "://" in path else os.path.realpath(path)


def matched_files(pbegin, patterns: list[str], prefix: str = ""):
    """Globs → distinct file paths (matched on the workers, so the job graph stays small for 10⁵
    files), spread so that a file, not a worker, is the unit of work."""
    return (
        pbegin
        | f"{prefix}Patterns" >> beam.Create(patterns)
        | f"{prefix}Match" >> fileio.MatchAll()
        | f"{prefix}Paths" >> beam.Map(lambda m: canonical_path(m.path))
        | f"{prefix}Distinct" >> beam.Distinct()
        | f"{prefix}SpreadFiles" >> beam.Reshuffle()
    )


def routed(counters: StageCounters, outcome: str, payload: dict):
    """A read outcome, counted, as the element to emit: kept records on the main output,
    rejects and errors tagged (shared by ReadWarc and the index-assisted read)."""
    if outcome == KEPT:
        counters.kept()
        return payload
    if outcome == REJECTED:
        counters.dropped(payload["reason"])
        return beam.pvalue.TaggedOutput(REJECTED, payload)
    return error_output(counters, payload)


class _ReadRecords(beam.DoFn):
    def __init__(self, cfg: ReadConfig):
        self.cfg = cfg

    def setup(self):
        self.counters = StageCounters(STAGE)

    def process(self, path: str):
        tally: dict = {}
        for outcome, payload in iter_warc(path, self.cfg, tally=tally):
            if outcome == SKIPPED:
                self.counters.inc("non_response_records", payload)
                self.counters.inc("crawl_date_invalid", tally["crawl_date_invalid"])
                # (path, non-response records, records emitted, invalid crawl dates): the report
                # takes records_read from here, not from the outcomes.
                yield beam.pvalue.TaggedOutput(
                    SKIPPED, (path, payload, tally["records"], tally["crawl_date_invalid"]))
            else:
                yield routed(self.counters, outcome, payload)


def match_inputs(patterns: list[str], limit: int | None = None,
                 skip_unlistable: bool = False) -> tuple[dict[str, int], list[str]]:
    """Input globs listed on the launcher (Beam filesystems): ``({file: size in bytes}, patterns
    that match nothing)``, one name per file as :class:`ReadWarc` reads it (absolute, links
    resolved: :func:`canonical_path`), in match order. ``limit``: list at most this many files per
    pattern (enough to know it matches). A pattern that cannot be listed (unknown scheme, no
    credentials, bad bucket) is a :class:`FileNotFoundError` naming it, or skipped with
    ``skip_unlistable``."""
    found: dict[str, int] = {}
    missing = []
    for pattern in patterns:
        try:
            result = FileSystems.match([absolute_location(pattern)], limits=None if limit is None else [limit])[0]
        except Exception as e:
            if skip_unlistable:
                continue
            raise FileNotFoundError(f"cannot list input {pattern!r}: {e}") from None
        if not result.metadata_list:
            missing.append(pattern)
        for m in result.metadata_list:
            found[canonical_path(m.path)] = int(m.size_in_bytes)
    return found, missing


def check_inputs(patterns: list[str]) -> list[str]:
    """Fail fast (at construction) if any pattern matches nothing: no silent empty run."""
    _, missing = match_inputs(patterns, limit=1)
    if missing:
        raise FileNotFoundError(f"input pattern(s) match no file: {', '.join(missing)}")
    return patterns


class ReadWarc(beam.PTransform):
    """Globs → files (matched on the workers, so the job graph stays small for 10⁵ files) →
    spread over workers → records. Outputs kept/rejected/errors plus ``skipped`` (path, n)."""

    def __init__(self, patterns: list[str], cfg: ReadConfig = ReadConfig(), check: bool = True):
        super().__init__()
        patterns = [absolute_location(p) for p in patterns]  # warc_file: an absolute location
        self.patterns = check_inputs(patterns) if check else patterns
        self.cfg = cfg

    def expand(self, pbegin):
        out = matched_files(pbegin, self.patterns) | "Records" >> beam.ParDo(_ReadRecords(self.cfg)).with_outputs(
            REJECTED, ERRORS, SKIPPED, main=KEPT
        )
        return {KEPT: out[KEPT], REJECTED: out[REJECTED], ERRORS: out[ERRORS], SKIPPED: out[SKIPPED]}
