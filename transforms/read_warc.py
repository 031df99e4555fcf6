"""ReadWarc: WARC files on any filesystem → one record per HTML ``response`` (spine issue §2.1).

Counting rules (the run report's invariant starts here): every WARC ``response`` record read is
one *record*; it leaves this stage as kept (HTML), rejected (``not_html_v1``, ``http_status_v1``)
or an error (``truncated_record``, ``record_too_large``, ``content_encoding_error``: HTTP content
and transfer codings are undone here, :func:`undo_http_codings`). A file that cannot be read on (corrupt
header, broken gzip) yields one ``warc_read_error`` naming the file and the offset where reading
stopped: the records after that point cannot be counted, and the error says so. Non-response
records (warcinfo, request, metadata, revisit) are counted apart, per file, as ``skipped``.
"""
from __future__ import annotations

import hashlib
import io
import logging
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urlsplit

import apache_beam as beam
from apache_beam.io import fileio

from transforms.schema import absolute_location
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
        return REJECTED, reject_record(base, STAGE, "http_status_v1")
    if ctype and ctype not in HTML_TYPES:
        return REJECTED, reject_record(base, STAGE, "not_html_v1")
    if codings:  # only for pages we keep: a gzip-coded image is not worth inflating
        try:
            body = undo_http_codings(body, codings, cfg.max_record_bytes)
        except CodingError as e:
            return ERRORS, error_record(base, STAGE, e.kind, str(e))
        base["html_bytes"] = len(body)
    if not ctype and not looks_like_html(body):
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


# --- HTTP transfer and content codings (RFC 9112 §7, RFC 9110 §8.4) -------------------------
# Common Crawl stores payloads decoded and renames the headers (X-Crawler-Content-Encoding), so
# its records have none; wget, wpull, pywb and Heritrix WARCs keep chunked and gzip payloads.
class CodingError(ValueError):
    """A payload that its declared codings cannot undo; ``kind`` is the error's reason code."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


_CODING_ALIASES = {"x-gzip": "gzip", "x-deflate": "deflate", "x-brotli": "br"}


def http_codings(transfer_encoding: str | None, content_encoding: str | None) -> tuple[str, ...]:
    """The codings to undo, in the order to undo them: the transfer codings, last applied first,
    then the content codings, last applied first (a sender applies content codings, then
    transfer codings). ``identity`` and empty names are dropped."""
    if not transfer_encoding and not content_encoding:  # nearly every record (Common Crawl)
        return ()
    out = []
    for header in (transfer_encoding, content_encoding):
        names = [_CODING_ALIASES.get(t, t) for t in
                 (x.strip().lower() for x in (header or "").split(","))]
        out.extend(n for n in reversed(names) if n and n != "identity")
    return tuple(out)


def undo_http_codings(body: bytes, codings: tuple[str, ...], limit: int) -> bytes:
    """``body`` with ``codings`` undone (:func:`http_codings` order): ``chunked``, ``gzip``,
    ``deflate`` (zlib or raw), ``br``, ``zstd``.

    As lenient as browsers and warcio where a WARC writer already removed a coding but kept
    its header: a payload that does not start as that coding (no chunk-size line, no gzip
    magic, ...) is kept as it is. A compressed stream cut short gives what it holds (a page
    the crawler truncated). Raises :class:`CodingError`: ``content_encoding_error`` for corrupt
    compressed data or an unknown coding, ``record_too_large`` when the decoded payload
    exceeds ``limit`` bytes (a decompression bomb never gets past ``limit + 1`` bytes)."""
    for coding in codings:
        if coding == "chunked":
            body = dechunk(body)
        elif coding in ("gzip", "deflate", "br", "zstd"):
            body = _decompress(body, coding, limit)
        else:
            raise CodingError("content_encoding_error", f"unknown HTTP coding {coding!r}")
        if len(body) > limit:
            raise CodingError("record_too_large",
                              f"payload decoded from {coding} is over max_record_bytes={limit}")
    return body


def dechunk(body: bytes) -> bytes:
    """The data of a chunked transfer coding (``size[;ext] CRLF data CRLF ... 0 CRLF``);
    ``body`` itself if it does not start with a chunk-size line. A malformed chunk header later
    on ends the decoding there and the rest is kept raw, as warcio does; a body cut inside a
    chunk gives the data it has."""
    parts, pos, n = [], 0, len(body)
    while pos < n:
        eol = body.find(b"\n", pos, pos + 1024)
        size_field = body[pos:eol].split(b";", 1)[0].strip() if eol >= 0 else b""
        try:
            size = int(size_field, 16) if size_field else -1
        except ValueError:
            size = -1
        if size < 0:
            if not parts and pos == 0:
                return body  # not chunked: the writer already removed the coding
            parts.append(body[pos:])
            break
        if size == 0:
            break  # last chunk; trailers are not payload
        start = eol + 1
        parts.append(body[start : start + size])
        pos = start + size
        if body.startswith(b"\r\n", pos):
            pos += 2
        elif body.startswith(b"\n", pos):
            pos += 1
    return b"".join(parts)


def _looks_coded(body: bytes, coding: str) -> bool:
    """Whether ``body`` starts as ``coding`` (gzip or zlib header, zstd magic); deflate and br
    have no magic, so only plain markup (or nothing) says they are not there."""
    if coding == "gzip":
        return body.startswith(b"\x1f\x8b") or _zlib_header(body)
    if coding == "zstd":
        return body.startswith(b"\x28\xb5\x2f\xfd")
    return body.lstrip()[:1] not in (b"<", b"")


def _zlib_header(body: bytes) -> bool:
    return len(body) >= 2 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0


def _decompress(body: bytes, coding: str, limit: int) -> bytes:
    if not _looks_coded(body, coding):
        return body  # not in this coding: the writer already decoded it
    try:
        if coding == "br":
            import brotli  # a dependency of fastwarc

            d = brotli.Decompressor()
            out = d.process(body, output_buffer_limit=limit + 1)
        elif coding == "zstd":
            import zstandard  # a dependency of apache-beam

            with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body)) as r:
                out = r.read(limit + 1)
        else:
            import zlib

            # gzip: a gzip or zlib header (wbits 47); deflate: zlib, else raw deflate, as sent by
            # servers that read the RFC's "deflate" as the bare algorithm.
            wbits = (47,) if coding == "gzip" else (15, -15)
            out = None
            for i, w in enumerate(wbits):
                try:
                    out = zlib.decompressobj(w).decompress(body, limit + 1)
                    break
                except zlib.error:
                    if i == len(wbits) - 1:
                        raise
    except Exception as e:  # zlib.error, brotli.error, zstandard.ZstdError
        if coding == "br":  # brotli has no magic number: undecodable means "not brotli"
            return body
        raise CodingError("content_encoding_error",
                          f"{coding} payload of {len(body)} bytes cannot be decoded: "
                          f"{type(e).__name__}: {e}") from None
    return out


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
                if rec.rec_type != "response":
                    offset = it.get_record_offset()
                    skipped += 1
                    continue
                # The payload first: get_record_offset() reads the record to its end.
                body = rec.content_stream().read(cfg.max_record_bytes + 1)
                offset = it.get_record_offset()
                h = rec.rec_headers
                base = _base(path, offset, h.get_header("WARC-Record-ID", ""),
                             h.get_header("WARC-Target-URI", ""), _iso(h.get_header("WARC-Date", "")))
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
        patterns = [absolute_location(p) for p in patterns]  # warc_file: an absolute location
        self.patterns = check_inputs(patterns) if check else patterns
        self.cfg = cfg

    def expand(self, pbegin):
        out = matched_files(pbegin, self.patterns) | "Records" >> beam.ParDo(_ReadRecords(self.cfg)).with_outputs(
            REJECTED, ERRORS, SKIPPED, main=KEPT
        )
        return {KEPT: out[KEPT], REJECTED: out[REJECTED], ERRORS: out[ERRORS], SKIPPED: out[SKIPPED]}
