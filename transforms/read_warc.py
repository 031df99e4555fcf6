"""ReadWarc: WARC files on any filesystem → one record per HTML ``response`` (spine issue §2.1).

Counting rules (the run report's invariant starts here): every WARC ``response`` record read is
one *record*; it leaves this stage as kept (HTML), rejected (``not_html_v1``, ``http_status_v1``)
or an error (``truncated_record``, ``record_too_large``). A file that cannot be read on (corrupt
header, broken gzip) yields one ``warc_read_error`` naming the file and the offset where reading
stopped: the records after that point cannot be counted, and the error says so. Non-response
records (warcinfo, request, metadata, revisit) are counted apart, per file, as ``skipped``.
"""
from __future__ import annotations

import hashlib
import logging
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urlsplit

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from transforms.stage import ERRORS, KEPT, REJECTED, StageCounters, error_record, reject_record

log = logging.getLogger(__name__)

STAGE = "read"
SKIPPED = "skipped"
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class ReadConfig:
    """``max_record_bytes``: a larger payload is a ``record_too_large`` error and is not read into
    memory (Common Crawl truncates payloads at 1 MiB, so 8 MiB only catches pathological
    records). ``only_2xx``: non-2xx responses (redirects, errors) carry no page text."""

    max_record_bytes: int = 8 * 1024 * 1024
    only_2xx: bool = True


def record_hash(record_id: str) -> str:
    """Stable document id: first 16 hex digits of SHA-1 of the WARC-Record-ID."""
    return hashlib.sha1(record_id.encode("utf-8", "replace")).hexdigest()[:16]


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml")) and b"<rss" not in head


def _base(path: str, offset: int, record_id: str, url: str, date: str) -> dict:
    return {
        "id": record_hash(record_id or f"{path}@{offset}"),
        "url": url,
        "host": host_of(url),
        "crawl_date": date,
        "warc_file": path,
        "warc_offset": int(offset),
    }


def _classify(base: dict, status: int | None, content_type: str, charset: str | None,
              body: bytes, declared_len: int | None, cfg: ReadConfig):
    """(outcome, payload) for one response record: outcome in kept/rejected/errors."""
    base["html_bytes"] = len(body)
    if declared_len is not None and len(body) > cfg.max_record_bytes:
        return ERRORS, error_record(base, STAGE, "record_too_large",
                                    f"payload of {declared_len} bytes > max_record_bytes={cfg.max_record_bytes}")
    if declared_len is not None and len(body) < declared_len:
        return ERRORS, error_record(base, STAGE, "truncated_record",
                                    f"payload has {len(body)} of {declared_len} declared bytes (truncated file or malformed HTTP headers)")
    ctype = (content_type or "").split(";")[0].strip().lower()
    if cfg.only_2xx and status is not None and not (200 <= status < 300):
        return REJECTED, reject_record(base, STAGE, "http_status_v1")
    if ctype not in HTML_TYPES and not (not ctype and looks_like_html(body)):
        return REJECTED, reject_record(base, STAGE, "not_html_v1")
    base["html"] = body
    base["http_charset"] = charset
    return KEPT, base


def _open(path: str):
    # Raw bytes: WARC readers handle per-record gzip members themselves.
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def iter_warc(path: str, cfg: ReadConfig = ReadConfig(), stream=None) -> Iterator[tuple[str, dict | int]]:
    """Yield ``(outcome, payload)``: outcome kept/rejected/errors with a record dict, or
    ``("skipped", n)`` once at the end with the number of non-response records. ``stream``: an
    open binary stream to read instead of opening ``path`` (which still names the records)."""
    try:
        from fastwarc.warc import ArchiveIterator  # noqa: F401
    except ImportError:  # pragma: no cover - exercised only where fastwarc has no wheel
        yield from _iter_warcio(path, cfg, stream)
        return
    yield from _iter_fastwarc(path, cfg, stream)


def _opened(path: str, stream):
    return nullcontext(stream) if stream is not None else _open(path)


def _iter_fastwarc(path: str, cfg: ReadConfig, stream=None):
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    skipped = 0
    offset = 0
    try:
        with _opened(path, stream) as fh:
            for rec in ArchiveIterator(fh, parse_http=True):
                offset = rec.stream_pos
                if rec.record_type != WarcRecordType.response:
                    skipped += 1
                    continue
                base = fastwarc_base(rec, path, offset)
                yield fastwarc_classify(rec, base, rec.reader.read(cfg.max_record_bytes + 1), cfg)
    except Exception as e:  # corrupt header, broken gzip, unreadable file
        yield ERRORS, _file_error(path, offset, e)
    yield SKIPPED, skipped


def fastwarc_base(rec, path: str, offset: int) -> dict:
    """The provenance fields of a fastwarc response record (shared with ranged reads)."""
    h = rec.headers
    return _base(path, offset, h.get("WARC-Record-ID", ""), h.get("WARC-Target-URI", ""),
                 _iso(h.get("WARC-Date", "")))


def fastwarc_classify(rec, base: dict, body: bytes, cfg: ReadConfig):
    """(outcome, payload) of a fastwarc response record whose payload is ``body``."""
    status = ctype = charset = None
    if rec.is_http and rec.http_headers is not None:
        status = rec.http_headers.status_code
        ctype = rec.http_headers.get("Content-Type", "")
        charset = rec.http_charset
    return _classify(base, status, ctype or "", charset, body, rec.content_length, cfg)


def matched_files(pbegin, patterns: list[str], prefix: str = ""):
    """Globs → distinct file paths (matched on the workers, so the job graph stays small for 10⁵
    files), spread so that a file, not a worker, is the unit of work."""
    return (
        pbegin
        | f"{prefix}Patterns" >> beam.Create(patterns)
        | f"{prefix}Match" >> fileio.MatchAll()
        | f"{prefix}Paths" >> beam.Map(lambda m: m.path)
        | f"{prefix}Distinct" >> beam.Distinct()
        | f"{prefix}SpreadFiles" >> beam.Reshuffle()
    )


def _iter_warcio(path: str, cfg: ReadConfig, stream=None):
    from warcio.archiveiterator import ArchiveIterator

    skipped = 0
    offset = 0
    try:
        with _opened(path, stream) as fh:
            it = ArchiveIterator(fh)
            for rec in it:
                offset = it.get_record_offset()
                if rec.rec_type != "response":
                    skipped += 1
                    continue
                h = rec.rec_headers
                base = _base(path, offset, h.get_header("WARC-Record-ID", ""),
                             h.get_header("WARC-Target-URI", ""), _iso(h.get_header("WARC-Date", "")))
                body = rec.content_stream().read(cfg.max_record_bytes + 1)
                status = ctype = charset = None
                if rec.http_headers is not None:
                    try:
                        status = int(rec.http_headers.get_statuscode())
                    except (TypeError, ValueError):
                        status = None
                    ctype = rec.http_headers.get_header("Content-Type", "")
                    charset = _charset_param(ctype)
                yield _classify(base, status, ctype or "", charset, body, None, cfg)
    except Exception as e:
        yield ERRORS, _file_error(path, offset, e)
    yield SKIPPED, skipped


def _charset_param(ctype: str | None) -> str | None:
    for part in (ctype or "").split(";")[1:]:
        k, _, v = part.partition("=")
        if k.strip().lower() == "charset":
            return v.strip().strip("\"'") or None
    return None


def _file_error(path: str, offset: int, e: Exception) -> dict:
    base = {"id": record_hash(f"{path}@{offset}#error"), "url": None, "host": None,
            "warc_file": path, "warc_offset": int(offset)}
    return error_record(base, STAGE, "warc_read_error",
                        f"cannot read on after offset {offset}: {type(e).__name__}: {e}; "
                        "later records in this file are not counted")


def _iso(date: str) -> str:
    """WARC-Date as ISO 8601 UTC ``YYYY-MM-DDTHH:MM:SSZ`` (sortable as a string)."""
    d = (date or "").strip()
    if d.endswith("+00:00"):
        d = d[:-6] + "Z"
    return d


def routed(counters: StageCounters, outcome: str, payload: dict):
    """A read outcome, counted, as the element to emit: kept records on the main output,
    rejects and errors tagged (shared by ReadWarc and the index-assisted read)."""
    if outcome == KEPT:
        counters.kept()
        return payload
    if outcome == REJECTED:
        counters.dropped(payload["reason"])
        return beam.pvalue.TaggedOutput(REJECTED, payload)
    counters.error(payload["kind"])
    return beam.pvalue.TaggedOutput(ERRORS, payload)


class _ReadRecords(beam.DoFn):
    def __init__(self, cfg: ReadConfig):
        self.cfg = cfg

    def setup(self):
        self.counters = StageCounters(STAGE)

    def process(self, path: str):
        for outcome, payload in iter_warc(path, self.cfg):
            if outcome == SKIPPED:
                self.counters.inc("non_response_records", payload)
                yield beam.pvalue.TaggedOutput(SKIPPED, (path, payload))
            else:
                yield routed(self.counters, outcome, payload)


def check_inputs(patterns: list[str]) -> list[str]:
    """Fail fast (at construction) if any pattern matches nothing: no silent empty run."""
    missing = []
    for pattern in patterns:
        try:
            result = FileSystems.match([pattern], limits=[1])[0]
            if not result.metadata_list:
                missing.append(pattern)
        except Exception as e:  # unknown scheme, no credentials, bad bucket
            raise FileNotFoundError(f"cannot list input {pattern!r}: {e}") from None
    if missing:
        raise FileNotFoundError(f"input pattern(s) match no file: {', '.join(missing)}")
    return patterns


class ReadWarc(beam.PTransform):
    """Globs → files (matched on the workers, so the job graph stays small for 10⁵ files) →
    spread over workers → records. Outputs kept/rejected/errors plus ``skipped`` (path, n)."""

    def __init__(self, patterns: list[str], cfg: ReadConfig = ReadConfig(), check: bool = True):
        super().__init__()
        self.patterns = check_inputs(list(patterns)) if check else list(patterns)
        self.cfg = cfg

    def expand(self, pbegin):
        out = matched_files(pbegin, self.patterns) | "Records" >> beam.ParDo(_ReadRecords(self.cfg)).with_outputs(
            REJECTED, ERRORS, SKIPPED, main=KEPT
        )
        return {KEPT: out[KEPT], REJECTED: out[REJECTED], ERRORS: out[ERRORS], SKIPPED: out[SKIPPED]}
