"""WARC records → read outcomes, without Beam: :func:`iter_warc` gives one outcome per WARC
``response`` record of a file (the :class:`transforms.read_warc.ReadWarc` stage runs it per file).

Counting rules (the run report's invariant starts here): every WARC ``response`` record read is
one *record*; it leaves this stage as kept (HTML), rejected (``not_html_v1``, ``http_status_v1``)
or an error (``truncated_record``, ``record_too_large``, ``content_encoding_error``: HTTP content
and transfer codings are undone here, :func:`undo_http_codings`). The file is cut into records
first (:mod:`transforms.warc_frames`): a record whose ``Content-Length`` lies is one
``bad_content_length`` error and a corrupt gzip member or unparsable stretch one
``warc_read_error`` naming the file and offset, and reading goes on at the next record. The
reader counts the records it emits per file (``records``), apart from the outcomes, so the
report's ``records_read == kept + dropped + errors`` can fail when a stage loses a record.
Non-response records (warcinfo, request, metadata, revisit) are counted apart, per file, as
``skipped``. A WARC-Date that is not a valid date, before 1991 or in the future is stored as a
null ``crawl_date`` (the oldest in "keep the newest" dedup) and counted (``crawl_date_invalid``).
"""
from __future__ import annotations

import hashlib
import io
import logging
import re
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator
from urllib.parse import urlsplit

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from transforms.config_fields import check
from transforms.http_codings import CodingError, http_codings, undo_http_codings
from transforms.records import error_record, reject_record
from transforms.stage import ERRORS, KEPT, REJECTED
from transforms.warc_frames import Frame, iter_frames

log = logging.getLogger(__name__)

STAGE = "read"
#: Reason codes of the read (a response that is no page to keep).
R_HTTP_STATUS = "http_status_v1"
R_NOT_HTML = "not_html_v1"
SKIPPED = "skipped"
#: The media types of HTML pages: the reader rejects other responses, the index reader selects
#: these (``IndexReadConfig.mime_types``), the prefilter evaluation counts them as HTML.
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class ReadConfig:
    """``max_record_bytes``: a larger payload is a ``record_too_large`` error and is not read into
    memory (Common Crawl truncates payloads at 1 MiB, so 8 MiB only catches pathological
    records). ``only_2xx``: non-2xx responses (redirects, errors) carry no page text."""

    max_record_bytes: int = 8 * 1024 * 1024
    only_2xx: bool = True

    def __post_init__(self):
        check(self, at_least_one=("max_record_bytes",))


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
              body: bytes, declared_len: int | None, cfg: ReadConfig, codings: tuple[str, ...] = ()):
    """(outcome, payload) for one response record: outcome in kept/rejected/errors. ``codings``:
    the HTTP transfer and content codings still on ``body`` (:func:`http_codings`)."""
    base["html_bytes"] = len(body)
    if declared_len is not None and len(body) > cfg.max_record_bytes:
        return ERRORS, error_record(base, STAGE, "record_too_large",
                                    f"payload of {declared_len} bytes > max_record_bytes={cfg.max_record_bytes}")
    if declared_len is not None and len(body) < declared_len:
        return ERRORS, error_record(base, STAGE, "truncated_record",
                                    f"payload has {len(body)} of {declared_len} declared bytes (truncated file or malformed HTTP headers)")
    ctype = (content_type or "").split(";")[0].strip().lower()
    if cfg.only_2xx and status is not None and not (200 <= status < 300):
        return REJECTED, reject_record(base, STAGE, R_HTTP_STATUS)
    if ctype and ctype not in HTML_TYPES:
        return REJECTED, reject_record(base, STAGE, R_NOT_HTML)
    if codings:  # only for pages we keep: a gzip-coded image is not worth inflating
        try:
            body = undo_http_codings(body, codings, cfg.max_record_bytes)
        except CodingError as e:
            return ERRORS, error_record(base, STAGE, e.kind, str(e))
        base["html_bytes"] = len(body)
    if not ctype and not looks_like_html(body):
        return REJECTED, reject_record(base, STAGE, R_NOT_HTML)
    base["html"] = body
    base["http_charset"] = charset
    return KEPT, base


def _open(path: str):
    # Raw bytes: WARC readers handle per-record gzip members themselves.
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def iter_warc(path: str, cfg: ReadConfig = ReadConfig(), stream=None,
              tally: dict | None = None) -> Iterator[tuple[str, dict | int]]:
    """Yield ``(outcome, payload)``: outcome kept/rejected/errors with a record dict, or
    ``("skipped", n)`` once at the end with the number of non-response records. ``stream``: an
    open binary stream to read instead of opening ``path`` (which still names the records).
    ``tally``, if given, receives ``records`` (outcomes yielded) and ``crawl_date_invalid``."""
    try:
        from fastwarc.warc import ArchiveIterator  # noqa: F401
    except ImportError:  # pragma: no cover - exercised only where fastwarc has no wheel
        yield from _iter_warcio(path, cfg, stream, tally)
        return
    yield from _iter_fastwarc(path, cfg, stream, tally)


def _opened(path: str, stream):
    return nullcontext(stream) if stream is not None else _open(path)


def _seekable(fh):
    try:
        if fh.seekable():
            return fh
    except Exception:  # pragma: no cover - streams without seekable()
        pass
    return io.BytesIO(fh.read())  # pragma: no cover - every Beam filesystem stream seeks


def _iter_frames(path: str, cfg: ReadConfig, stream, tally, parse):
    """Frames → outcomes; ``parse(path, frame, cfg)`` classifies one well-framed response."""
    tally = {} if tally is None else tally
    tally.update(records=0, crawl_date_invalid=0)
    skipped, offset = 0, 0
    try:
        with _opened(path, stream) as fh:
            skipped = yield from _frame_outcomes(path, _seekable(fh), cfg, tally, parse, 0)
    except Exception as e:  # unreadable file, a reader bug: the rest of the file is one error
        tally["records"] += 1
        yield ERRORS, _file_error(path, offset, e)
    yield SKIPPED, skipped


def _frame_outcomes(path: str, fh, cfg: ReadConfig, tally: dict, parse, released: int):
    """Outcomes of the frames of ``fh`` after its first ``released`` well-framed records (already
    given out by the fast path); returns the number of non-response records among the rest."""
    skipped = 0
    for frame in iter_frames(fh, cfg.max_record_bytes):
        if frame.problem is None and released > 0:
            released -= 1
            continue
        if frame.problem is None and frame.headers.get("warc-type", "").lower() != "response":
            skipped += 1
            continue
        if frame.problem is not None:
            out = ERRORS, _frame_error(path, frame)
        else:
            out = parse(path, frame, cfg)
            if out[1].get("crawl_date") is None:
                tally["crawl_date_invalid"] += 1
        tally["records"] += 1
        yield out
    return skipped


def _frame_bytes(frame: Frame) -> io.BytesIO:
    return io.BytesIO(frame.head + frame.body + b"\r\n\r\n")


def _fastwarc_record(path: str, frame: Frame, cfg: ReadConfig):
    from fastwarc.warc import ArchiveIterator

    for rec in ArchiveIterator(_frame_bytes(frame), parse_http=True):
        base = fastwarc_base(rec, path, frame.offset)
        return fastwarc_classify(rec, base, rec.reader.read(cfg.max_record_bytes + 1), cfg)
    return ERRORS, _frame_error(path, Frame(frame.offset, frame.headers, problem="warc_read_error",
                                            message="WARC header block cannot be parsed"))


def _iter_fastwarc(path: str, cfg: ReadConfig, stream=None, tally=None):
    """fastwarc over the whole file, each record given out only once the next one has parsed (or
    the file ended): a record whose ``Content-Length`` lies, or a corrupt gzip member, makes the
    next parse fail. On the first failure the file is read again by the resynchronising frame
    reader (:mod:`transforms.warc_frames`) from the first record not yet given out, so nothing is
    lost, while a well-formed file (all of Common Crawl) costs what fastwarc costs: the frame
    reader inflates each member in Python, about 2.5x slower on the sample crawl."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    tally = {} if tally is None else tally
    tally.update(records=0, crawl_date_invalid=0)
    skipped, released, offset = 0, 0, 0
    pending = None  # [outcome or None (a non-response record)] parsed, not yet given out
    try:
        with _opened(path, stream) as fh:
            fh = _seekable(fh)
            try:
                for rec in ArchiveIterator(fh, parse_http=True):
                    offset = rec.stream_pos
                    if rec.record_type != WarcRecordType.response:
                        item = None
                    else:
                        base = fastwarc_base(rec, path, offset)
                        item = fastwarc_classify(rec, base, rec.reader.read(cfg.max_record_bytes + 1), cfg)
                    if pending is not None:
                        skipped += yield from _release(pending[0], tally)
                        released += 1
                    pending = [item]
                    if item is not None and item[1].get("kind") == "truncated_record":
                        # shorter than its Content-Length: the file ended early, or the length
                        # lies and swallowed the records after it
                        raise _Reframe()
            except Exception:  # fastwarc lost the framing: the frame reader takes over
                pending = None
                skipped += yield from _frame_outcomes(path, fh, cfg, tally, _fastwarc_record, released)
            if pending is not None:
                skipped += yield from _release(pending[0], tally)
    except Exception as e:  # unreadable file, a reader bug: the rest of the file is one error
        tally["records"] += 1
        yield ERRORS, _file_error(path, offset, e)
    yield SKIPPED, skipped


class _Reframe(Exception):
    """The fast path saw a record that may hide others: read the rest by frames."""


def _release(item, tally: dict):
    """Give out one fast-path record (None: a non-response record); returns 1 if skipped."""
    if item is None:
        return 1
    if item[1].get("crawl_date") is None:
        tally["crawl_date_invalid"] += 1
    tally["records"] += 1
    yield item
    return 0


def fastwarc_base(rec, path: str, offset: int) -> dict:
    """The provenance fields of a fastwarc response record (shared with ranged reads)."""
    h = rec.headers
    return _base(path, offset, h.get("WARC-Record-ID", ""), h.get("WARC-Target-URI", ""),
                 _iso(h.get("WARC-Date", "")))


def fastwarc_classify(rec, base: dict, body: bytes, cfg: ReadConfig):
    """(outcome, payload) of a fastwarc response record whose payload is ``body``. fastwarc
    leaves the HTTP transfer and content codings on the payload (warcio removes them), so they
    are undone here: same record, same page, whichever reader."""
    status = ctype = charset = None
    codings: tuple[str, ...] = ()
    if rec.is_http and rec.http_headers is not None:
        h = rec.http_headers
        status = h.status_code
        ctype = h.get("Content-Type", "")
        charset = rec.http_charset
        codings = http_codings(h.get("Transfer-Encoding"), h.get("Content-Encoding"))
    return _classify(base, status, ctype or "", charset, body, rec.content_length, cfg, codings)


def _warcio_record(path: str, frame: Frame, cfg: ReadConfig):
    from warcio.archiveiterator import ArchiveIterator

    for rec in ArchiveIterator(_frame_bytes(frame)):
        body = rec.content_stream().read(cfg.max_record_bytes + 1)
        h = rec.rec_headers
        base = _base(path, frame.offset, h.get_header("WARC-Record-ID", ""),
                     h.get_header("WARC-Target-URI", ""), _iso(h.get_header("WARC-Date", "")))
        status = ctype = charset = None
        if rec.http_headers is not None:
            try:
                status = int(rec.http_headers.get_statuscode())
            except (TypeError, ValueError):
                status = None
            ctype = rec.http_headers.get_header("Content-Type", "")
            charset = _charset_param(ctype)
        # warcio undoes the HTTP codings itself; the declared length is the frame's
        return _classify(base, status, ctype or "", charset, body,
                         frame.declared if len(body) > cfg.max_record_bytes else None, cfg)
    return ERRORS, _frame_error(path, Frame(frame.offset, frame.headers, problem="warc_read_error",
                                            message="WARC header block cannot be parsed"))


def _iter_warcio(path: str, cfg: ReadConfig, stream=None, tally=None):
    yield from _iter_frames(path, cfg, stream, tally, _warcio_record)


def _charset_param(ctype: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type, lower-cased as fastwarc gives it."""
    for part in (ctype or "").split(";")[1:]:
        k, _, v = part.partition("=")
        if k.strip().lower() == "charset":
            return v.strip().strip("\"'").lower() or None
    return None


def _file_error(path: str, offset: int, e: Exception) -> dict:
    base = {"id": record_hash(f"{path}@{offset}#error"), "url": None, "host": None,
            "warc_file": path, "warc_offset": int(offset)}
    return error_record(base, STAGE, "warc_read_error",
                        f"cannot read on after offset {offset}: {type(e).__name__}: {e}; "
                        "later records in this file are not counted")


def _frame_error(path: str, frame: Frame) -> dict:
    h = frame.headers
    rid = h.get("warc-record-id", "")
    url = h.get("warc-target-uri") or None
    base = {"id": record_hash(rid or f"{path}@{frame.offset}#error"), "url": url,
            "host": host_of(url) if url else None, "crawl_date": _iso(h.get("warc-date", "")),
            "warc_file": path, "warc_offset": int(frame.offset)}
    return error_record(base, STAGE, frame.problem, frame.message)


#: WARC-Dates before the first web crawls or after the reading day (plus a day of clock skew)
#: are not dates a crawler wrote: they would win or lose "keep the newest" for no reason.
EARLIEST_CRAWL = datetime(1991, 1, 1, tzinfo=timezone.utc)


_EARLIEST_ISO = EARLIEST_CRAWL.strftime("%Y-%m-%dT%H:%M:%SZ")
_CANONICAL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_LATEST: list = [0.0, ""]  # [when computed (time.time()), ISO bound now + 1 day], refreshed hourly


def _latest_iso() -> str:
    now = time.time()
    if now - _LATEST[0] > 3600:
        _LATEST[:] = [now, (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")]
    return _LATEST[1]


def _iso(date: str) -> str | None:
    """WARC-Date as ISO 8601 UTC ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` (sortable as a string), or
    None when it is not a valid date in [1991, now + 1 day] (ISO 28500 §5.4: W3C-ISO8601, UTC).
    A date already in that form (every Common Crawl record) is validated and compared as a string."""
    d = (date or "").strip()
    if not d or len(d) > 40:
        return None
    if len(d) == 20 and _CANONICAL_DATE.fullmatch(d):
        try:
            datetime.fromisoformat(d[:19])  # a real calendar date and time
        except ValueError:
            return None
        return d if _EARLIEST_ISO <= d <= _latest_iso() else None
    try:
        t = datetime.fromisoformat(d.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    t = t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)
    if not EARLIEST_CRAWL <= t <= datetime.now(timezone.utc) + timedelta(days=1):
        return None
    frac = f".{t.microsecond:06d}" if t.microsecond else ""
    return t.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"
