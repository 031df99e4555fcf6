"""ReadWarcIndexed: Common Crawl's columnar URL index → only the selected WARC records, by byte range.

Why: a full scan inflates every gzip member of every WARC file (~138 KB per CC page, ~400 MB/s
per core) only to drop ~95% of the pages (``bench/cost_model.py`` prices a full scan against this
reader at Swallow's scale). Common Crawl publishes a Parquet index of every capture
(``s3://commoncrawl/cc-index/table/cc-main/warc/crawl=CC-MAIN-YYYY-WW/subset=warc/*.parquet``;
schema: https://github.com/commoncrawl/cc-index-table, file
``src/main/resources/schema/cc-index-schema-flat.json``) with, per capture, ``url``,
``url_host_name``, ``fetch_status``, ``content_mime_type`` (the HTTP header's),
``content_mime_detected`` (Apache Tika's detection), ``content_charset``, ``content_languages``
(CLD2 on the page text: up to three ISO-639-3 codes, comma-separated, most text first, e.g.
``"jpn,eng"``; null in crawls before CC-MAIN-2018-39), ``warc_filename`` (relative to the bucket
root), ``warc_record_offset`` and ``warc_record_length``. Each WARC record is its own gzip member,
so ``(offset, length)`` is one record that inflates on its own.

Counting rules (the run report's invariant, as in :mod:`transforms.warc_records`): an index row that
:func:`select` refuses is never read and is counted apart as ``not_selected.<reason>`` (like
non-response records in a full scan). Every selected row is one *record*: kept (HTML),
rejected (``not_html_v1``, ``http_status_v1``, by ReadWarc's own rules) or an error
(``index_range_error`` when the range is not one whole gzip member holding the indexed response,
plus ReadWarc's ``truncated_record``/``record_too_large``). Records are identical to ReadWarc's for
the same WARC record (same id, url, host, crawl_date, warc_file, warc_offset, html, http_charset).
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping

import apache_beam as beam

from transforms.config_fields import check, refuse
from transforms.schema import absolute_location
from transforms.read_warc import check_inputs, matched_files, routed
from transforms.warc_records import (
    HTML_TYPES, SKIPPED, STAGE, ReadConfig, _open, fastwarc_base, fastwarc_classify, record_hash,
)
from transforms.stage import ERRORS, KEPT, REJECTED, StageCounters, error_record

log = logging.getLogger(__name__)

#: Extra output of ReadWarcIndexed: ``(reason, n)`` per index file, for rows never read.
NOT_SELECTED = "not_selected"
#: Extra output: ``("selected", n)`` per index file (the rows read by range).
SELECTED = "selected"

#: The index columns the reader needs (a CC index file has ~30; Parquet reads only these).
READ_COLUMNS = ("url", "fetch_status", "content_mime_type", "content_mime_detected",
                "content_languages", "warc_filename", "warc_record_offset", "warc_record_length")



@dataclass(frozen=True)
class IndexReadConfig:
    """Which index rows are read (CC's index schema; see the module docstring).

    ``languages``: ISO-639-3 codes as in ``content_languages``; a row is selected when any of its
    (up to three) CLD2 languages is one of these, so pages with some Japanese are read and our own
    LID decides. ``keep_unknown_language``: rows with null ``content_languages`` (every crawl before
    CC-MAIN-2018-39, and pages CLD2 found no text in) are read, since nothing says they are not
    Japanese. ``mime_types``: ``content_mime_detected`` (else ``content_mime_type``) must be one of
    these; empty = any. ``only_2xx``: ``fetch_status`` 200–299 (ReadWarc would reject the rest as
    ``http_status_v1`` after reading them). ``warc_root``: prefix for relative ``warc_filename``
    values (CC's are relative to the bucket: ``s3://commoncrawl/`` or
    ``https://data.commoncrawl.org/``); paths with a scheme or a leading ``/`` are used as they are.
    """

    languages: tuple[str, ...] = ("jpn",)
    keep_unknown_language: bool = True
    mime_types: tuple[str, ...] = HTML_TYPES
    only_2xx: bool = True
    warc_root: str = ""
    batch_rows: int = 65536

    def __post_init__(self):
        bad = [x for x in self.languages if not (isinstance(x, str) and len(x) == 3 and x.isalpha())]
        if bad:
            refuse(self, "languages", f"{bad} are not ISO-639-3 codes (CC's content_languages uses "
                   "three letters, e.g. 'jpn', 'eng')")
        check(self, at_least_one=("batch_rows",))


# --- pure rules -------------------------------------------------------------------------------

def select(row: Mapping, cfg: IndexReadConfig = IndexReadConfig()) -> tuple[bool, str]:
    """``(selected, reason)`` for one index row. Reasons when refused (versioned, counted as
    ``not_selected.<reason>``): ``status_v1``, ``mime_v1``, ``language_v1``,
    ``unknown_language_v1``; when selected: ``language`` or ``unknown_language``."""
    status = row.get("fetch_status")
    if cfg.only_2xx and status is not None and not (200 <= int(status) < 300):
        return False, "status_v1"
    if cfg.mime_types:
        mime = (row.get("content_mime_detected") or row.get("content_mime_type") or "").split(";")[0].strip().lower()
        if mime and mime not in cfg.mime_types:
            return False, "mime_v1"
    langs = row.get("content_languages")
    if not langs:
        return (True, "unknown_language") if cfg.keep_unknown_language else (False, "unknown_language_v1")
    if any(code.strip() in cfg.languages for code in langs.split(",")):
        return True, "language"
    return False, "language_v1"


def warc_path(filename: str, cfg: IndexReadConfig) -> str:
    """The WARC file an index row names, as an absolute location (it becomes ``warc_file``)."""
    if not cfg.warc_root or "://" in filename or filename.startswith("/"):
        return absolute_location(filename)
    return absolute_location(cfg.warc_root.rstrip("/") + "/" + filename.lstrip("/"))


class RangeError(Exception):
    """The range is not one whole gzip member holding a WARC response record."""


def read_range(fh, offset: int, length: int, path: str = "", cfg: ReadConfig = ReadConfig(),
               url: str | None = None) -> tuple[str, dict]:
    """Read the gzip member at ``(offset, length)`` of an open WARC file → ``(outcome, record)``,
    outcome kept/rejected/errors exactly as :func:`transforms.warc_records.iter_warc` gives for the same
    record. A range that is not one whole member holding a response (wrong offset, truncated
    length, not gzip, another record type, or — when ``url`` is given — another URL) is an
    ``index_range_error`` naming the file and offset."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    try:
        if length is None or offset is None or int(length) <= 0 or int(offset) < 0:
            raise RangeError(f"invalid range offset={offset} length={length}")
        fh.seek(int(offset))
        member = fh.read(int(length))
        if len(member) < int(length):
            raise RangeError(f"file ends after {len(member)} of {length} bytes")
        if member[:2] != b"\x1f\x8b":
            raise RangeError(f"no gzip member starts here (first bytes {member[:4].hex() or 'none'})")
        # fastwarc inflates the member itself (about 1.6x Python's zlib); the checks below
        # catch a cut member and a range spanning two records.
        it = iter(ArchiveIterator(io.BytesIO(member), parse_http=True))
        for rec in it:
            if rec.record_type != WarcRecordType.response:
                raise RangeError(f"record is {str(rec.record_type).rpartition('.')[2]}, not a response")
            base = fastwarc_base(rec, path, offset)
            if url is not None and base["url"] != url:
                raise RangeError(f"record is for {base['url']!r}, the index says {url!r} (stale index?)")
            declared = rec.content_length
            body = rec.reader.read(cfg.max_record_bytes + 1)
            if len(body) < declared <= cfg.max_record_bytes:
                raise RangeError(f"gzip member truncated: {len(member)} bytes hold {len(body)} of "
                                 f"{declared} declared payload bytes")
            outcome = fastwarc_classify(rec, base, body, cfg)
            if next(it, None) is not None:
                raise RangeError("more than one record in the range (length spans more than one record)")
            return outcome
        raise RangeError("no WARC record in the gzip member")
    except Exception as e:  # RangeError, I/O errors, WARC parse errors: one counted error
        return ERRORS, range_error(path, offset, length, e)


def range_error(path: str, offset, length, e: Exception) -> dict:
    base = {"id": record_hash(f"{path}@{offset}#index"), "url": None, "host": None,
            "warc_file": path, "warc_offset": int(offset or 0)}
    return error_record(base, STAGE, "index_range_error",
                        f"byte range of length {length}: {type(e).__name__}: {e}")


def iter_index(fh, cfg: IndexReadConfig = IndexReadConfig()) -> Iterator[dict]:
    """Rows of one Parquet index file (only :data:`READ_COLUMNS` that it has), in batches."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(fh)
    have = set(pf.schema_arrow.names)
    missing = {"warc_filename", "warc_record_offset", "warc_record_length"} - have
    if missing:
        raise ValueError(f"not a CC-style index: no column(s) {sorted(missing)}")
    cols = [c for c in READ_COLUMNS if c in have]
    for batch in pf.iter_batches(batch_size=cfg.batch_rows, columns=cols):
        yield from batch.to_pylist()


def scan_index(rows: Iterable[Mapping], cfg: IndexReadConfig) -> Iterator[tuple[str, object]]:
    """``("row", (path, (offset, length, url)))`` per selected row, then
    ``("counts", {reason: n})`` once, with ``selected`` and each refusal reason."""
    counts: dict[str, int] = {}
    for row in rows:
        ok, reason = select(row, cfg)
        if ok:
            counts[SELECTED] = counts.get(SELECTED, 0) + 1
            yield "row", (warc_path(row["warc_filename"], cfg),
                          (int(row["warc_record_offset"]), int(row["warc_record_length"]), row.get("url")))
        else:
            counts[reason] = counts.get(reason, 0) + 1
    yield "counts", counts


def read_ranges(path: str, ranges: Iterable[tuple], cfg: ReadConfig = ReadConfig()) -> Iterator[tuple[str, dict]]:
    """Open ``path`` once and read each ``(offset, length, url)`` in offset order (seeks only
    forward). A file that cannot be opened makes every range one ``index_range_error``."""
    ranges = sorted(ranges, key=lambda r: (r[0], r[1], r[2] or ""))
    try:
        fh = _open(path)
    except Exception as e:
        for offset, length, _ in ranges:
            yield ERRORS, range_error(path, offset, length, e)
        return
    with fh:
        for offset, length, url in ranges:
            yield read_range(fh, offset, length, path, cfg, url=url)


# --- Beam -------------------------------------------------------------------------------------

class _ScanIndex(beam.DoFn):
    def __init__(self, cfg: IndexReadConfig):
        self.cfg = cfg

    def setup(self):
        self.counters = StageCounters(STAGE)

    def process(self, index_path: str):
        with _open(index_path) as fh:
            for kind, payload in scan_index(iter_index(fh, self.cfg), self.cfg):
                if kind == "row":
                    yield payload
                    continue
                for reason, n in sorted(payload.items()):
                    if reason == SELECTED:
                        self.counters.inc("index_selected", n)
                        yield beam.pvalue.TaggedOutput(SELECTED, (index_path, n))
                    else:
                        self.counters.inc(f"not_selected.{reason}", n)
                        yield beam.pvalue.TaggedOutput(NOT_SELECTED, (reason, n))
        # No non-response record is ever read here; one (path, 0) per index file tells progress
        # that the file is done (its files_total counts index files in this mode).
        yield beam.pvalue.TaggedOutput(SKIPPED, (index_path, 0))


class _ReadRanges(beam.DoFn):
    def __init__(self, cfg: ReadConfig):
        self.cfg = cfg

    def setup(self):
        self.counters = StageCounters(STAGE)

    def process(self, kv):
        path, ranges = kv
        for outcome, payload in read_ranges(path, ranges, self.cfg):
            yield routed(self.counters, outcome, payload)


class ReadWarcIndexed(beam.PTransform):
    """Index globs → index files → selected rows → grouped per WARC file → ranged reads.
    Outputs kept/rejected/errors and ``skipped`` ((index file, 0) once it is scanned) as
    :class:`ReadWarc`, plus
    ``not_selected`` (reason, n) and ``selected`` (index file, n)."""

    def __init__(self, index_patterns: list[str], cfg: IndexReadConfig = IndexReadConfig(),
                 read_cfg: ReadConfig = ReadConfig(), check: bool = True):
        super().__init__()
        self.patterns = check_inputs(list(index_patterns)) if check else list(index_patterns)
        self.cfg, self.read_cfg = cfg, read_cfg

    def expand(self, pbegin):
        index_files = matched_files(pbegin, self.patterns, prefix="Index")
        # Filter rows where they are read; only (path, offset, length, url) of selected rows travel.
        rows = index_files | "ScanIndex" >> beam.ParDo(_ScanIndex(self.cfg)).with_outputs(
            NOT_SELECTED, SELECTED, SKIPPED, main="rows")
        per_file = (
            rows["rows"]
            | "GroupByWarc" >> beam.GroupByKey()
            # A WARC file (not a worker) is the unit of work, as in ReadWarc.
            | "SpreadWarcFiles" >> beam.Reshuffle()
        )
        out = per_file | "ReadRanges" >> beam.ParDo(_ReadRanges(self.read_cfg)).with_outputs(
            REJECTED, ERRORS, main=KEPT)
        return {KEPT: out[KEPT], REJECTED: out[REJECTED], ERRORS: out[ERRORS], SKIPPED: rows[SKIPPED],
                NOT_SELECTED: rows[NOT_SELECTED], SELECTED: rows[SELECTED]}
