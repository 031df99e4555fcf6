"""HTTP transfer and content codings of WARC payloads (RFC 9112 §7, RFC 9110 §8.4), undone as
browsers, warcio and pywb undo them."""
from __future__ import annotations

import io


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
