"""WARC framing that never loses the records after a bad one.

A WARC reader that trusts every ``Content-Length`` and every gzip member stops at the first lie:
the rest of the file is never read and never counted. Here the file is cut into records first,
and each cut is checked, the way ``warcio``'s ``recompress`` and Heritrix's ``ArchiveReader``
resynchronise:

* gzip WARCs (ISO 28500 Annex D: one gzip member per record) are read member by member; a
  member's end bounds its record whatever its ``Content-Length`` says, and a corrupt member is
  skipped to the next gzip header (``1f 8b 08``) whose data starts with ``WARC/``;
* uncompressed WARCs (and the content of each member) are cut at ``Content-Length``, which must be
  followed by the record's CRLF CRLF and the next ``WARC/1.`` header (or the end): where it is not,
  the record ends at the next ``WARC/1.`` line and is reported as ``bad_content_length``.

Every stretch of bytes that is skipped is one :class:`Frame` with a ``problem``, so the reader
counts it as an error naming the file and offset. Bodies are read up to ``limit + 1`` bytes only.
"""
from __future__ import annotations

import io
import tempfile
import zlib
from dataclasses import dataclass, field

GZIP_MAGIC = b"\x1f\x8b\x08"
WARC_START = b"WARC/1."
MAX_HEADER = 1 << 20
_CHUNK = 1 << 20
#: A member decompressed beyond this many bytes spills to a temporary file (a whole-file gzip).
_SPILL = 64 << 20


@dataclass
class Frame:
    """One record (or one skipped stretch, ``problem`` set) at ``offset`` of the file."""

    offset: int
    headers: dict[str, str] = field(default_factory=dict)
    head: bytes = b""
    body: bytes = b""
    declared: int | None = None
    problem: str | None = None  # error kind: bad_content_length, truncated_record, warc_read_error
    message: str = ""


def parse_headers(head: bytes) -> dict[str, str]:
    """WARC named fields (case kept as the first spelling seen, values stripped)."""
    out: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\n")[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip():
            out.setdefault(name.strip().lower(), value.strip())
    return out


def _content_length(headers: dict[str, str]) -> int | None:
    raw = headers.get("content-length", "")
    if not raw.isdigit() or len(raw) > 15:  # 'abc', '-5', '1e23', a petabyte: not a length
        return None
    return int(raw)


def _find(f, needle: bytes, start: int, line_start: bool = True) -> int | None:
    """Position of ``needle`` at or after ``start`` (at a line start if ``line_start``)."""
    if line_start:
        if start == 0:
            f.seek(0)
            if f.read(len(needle)) == needle:
                return 0
            start = 1
        hit = _find(f, b"\n" + needle, start - 1, line_start=False)
        return None if hit is None else hit + 1
    pos, carry = start, b""
    f.seek(pos)
    while True:
        chunk = f.read(_CHUNK)
        if not chunk:
            return None
        data = carry + chunk
        j = data.find(needle)
        if j >= 0:
            return pos - len(carry) + j
        carry = data[-(len(needle) - 1):]
        pos += len(chunk)


def split_records(f, limit: int, base_offset: int = 0, complete: bool = True, per_member: bool = False):
    """Frames of the seekable uncompressed stream ``f``. ``base_offset``: where ``f`` starts in the
    file (a gzip member's offset: then every frame carries it, as Common Crawl's index does).
    ``complete``: whether ``f`` ended where it should (False: a member cut short)."""
    cap = limit + 1 + MAX_HEADER  # the WARC block holds the HTTP headers before the payload
    pos = 0
    where = (lambda p: base_offset) if per_member else (lambda p: base_offset + p)
    while True:
        f.seek(pos)
        head = f.read(min(MAX_HEADER, 64 << 10))
        lead = len(head) - len(head.lstrip(b"\r\n"))
        if not head[lead:]:
            more = f.read(1)
            if not more:
                return  # only padding left
        pos += lead
        head = head[lead:]
        if not head.startswith(b"WARC/"):
            nxt = _find(f, WARC_START, pos + 1)
            end = nxt if nxt is not None else _size(f)
            yield Frame(where(pos), problem="warc_read_error",
                        message=f"{end - pos} bytes that are not a WARC record skipped")
            if nxt is None:
                return
            pos = nxt
            continue
        cut = head.find(b"\r\n\r\n")
        if cut < 0 and len(head) < MAX_HEADER:
            f.seek(pos)
            head = f.read(MAX_HEADER)
            cut = head.find(b"\r\n\r\n")
        if cut < 0:
            nxt = _find(f, WARC_START, pos + 1)
            yield Frame(where(pos), problem="warc_read_error" if nxt is not None or complete else "truncated_record",
                        message="WARC header block has no end")
            if nxt is None:
                return
            pos = nxt
            continue
        head = head[:cut + 4]
        headers = parse_headers(head)
        declared = _content_length(headers)
        body_start = pos + len(head)
        frame = Frame(where(pos), headers, head, declared=declared)
        if declared is not None:
            f.seek(body_start)
            frame.body = f.read(min(declared, cap))
            f.seek(body_start + declared)
            tail = f.read(64)
            # the record's own CRLF CRLF (what follows, if not a record, is a gap of its own)
            framed = tail.startswith(b"\r\n\r\n") or not tail
            if framed and len(frame.body) == min(declared, cap):
                yield frame
                pos = body_start + declared
                continue
        # Content-Length missing, unparsable, or not followed by the next record: the record ends
        # at the next WARC header (or the end), the records after it are read.
        nxt = _find(f, WARC_START, body_start)
        end = nxt if nxt is not None else _size(f)
        if declared is not None and nxt is None and end - body_start < declared:
            frame.problem = "truncated_record"
            frame.message = f"payload has {end - body_start} of {declared} declared bytes (record, file or gzip member cut short)"
        else:
            frame.problem = "bad_content_length"
            said = headers.get("content-length", "(none)")
            frame.message = (f"Content-Length {said[:40]!r} but the record has {end - body_start} bytes "
                             f"before {'the next record' if nxt is not None else 'the end'}")
        yield frame
        if nxt is None:
            return
        pos = nxt


def _size(f) -> int:
    here = f.tell()
    f.seek(0, io.SEEK_END)
    n = f.tell()
    f.seek(here)
    return n


class _Sink:
    """Decompressed member bytes: in memory, spilled to disk past ``_SPILL``."""

    def __init__(self):
        self.buf, self.n, self.file = [], 0, None

    def write(self, data: bytes):
        self.n += len(data)
        if self.file is None and self.n > _SPILL:
            self.file = tempfile.TemporaryFile()
            self.file.write(b"".join(self.buf))
            self.buf = []
        if self.file is not None:
            self.file.write(data)
        else:
            self.buf.append(data)

    def stream(self):
        if self.file is not None:
            self.file.seek(0)
            return self.file
        return io.BytesIO(b"".join(self.buf))


class _Ahead:
    """Reads ``fh`` forward through one buffer, so that member after member costs one pass
    over the compressed bytes (a seek back into the buffer is free)."""

    def __init__(self, fh):
        self.fh, self.start, self.buf = fh, 0, b""

    def at(self, pos: int, n: int = _CHUNK) -> bytes:
        """Up to ``n`` bytes from ``pos`` (fewer only at the end of the file)."""
        if not self.start <= pos <= self.start + len(self.buf) or pos + n > self.start + len(self.buf):
            if self.start <= pos <= self.start + len(self.buf):
                keep = self.buf[pos - self.start:]
            else:
                keep = b""
                self.fh.seek(pos)
            self.fh.seek(pos + len(keep))
            self.buf, self.start = keep + self.fh.read(max(n - len(keep), _CHUNK)), pos
        i = pos - self.start
        return self.buf[i:i + n]


def _inflate_member(ahead: _Ahead, start: int):
    """(decompressed sink, compressed end, status) of the gzip member at ``start``; status is
    'ok', 'cut' (the file ends inside it) or 'corrupt'."""
    d = zlib.decompressobj(31)
    sink, pos = _Sink(), start
    while True:
        chunk = ahead.at(pos, 64 << 10)
        if not chunk:
            return sink, pos, "cut"
        try:
            sink.write(d.decompress(chunk))
        except zlib.error:
            return sink, pos, "corrupt"
        if d.eof:
            return sink, pos + len(chunk) - len(d.unused_data), "ok"
        pos += len(chunk)


def _starts_warc(fh, at: int) -> bool:
    fh.seek(at)
    d = zlib.decompressobj(31)
    try:
        out = d.decompress(fh.read(4096), 16)
    except zlib.error:
        return False
    return out.lstrip(b"\r\n").startswith(b"WARC/")


def _next_member(fh, after: int) -> int | None:
    pos = after
    while True:
        at = _find(fh, GZIP_MAGIC, pos, line_start=False)
        if at is None or _starts_warc(fh, at):
            return at
        pos = at + 1


def iter_frames(fh, limit: int):
    """Every frame of the WARC file ``fh`` (binary, seekable), gzip or not."""
    fh.seek(0)
    if fh.read(2) != GZIP_MAGIC[:2]:
        yield from split_records(fh, limit)
        return
    pos, size, ahead = 0, _size(fh), _Ahead(fh)
    while pos < size:
        if ahead.at(pos, 3) != GZIP_MAGIC:
            nxt = _next_member(fh, pos + 1)
            end = nxt if nxt is not None else size
            if end - pos > 4096 or ahead.at(pos, end - pos).strip(b"\x00\r\n "):  # padding is fine
                yield Frame(pos, problem="warc_read_error",
                            message=f"{end - pos} bytes that are not a gzip member skipped")
            if nxt is None:
                return
            pos = nxt
            continue
        sink, end, status = _inflate_member(ahead, pos)
        if status == "corrupt":
            nxt = _next_member(fh, pos + 1)
            stop = nxt if nxt is not None else size
            yield Frame(pos, problem="warc_read_error",
                        message=f"corrupt gzip member: {stop - pos} bytes skipped to "
                                f"{'the next member at offset ' + str(nxt) if nxt is not None else 'the end'}")
            if nxt is None:
                return
            pos = nxt
            continue
        yield from split_records(sink.stream(), limit, base_offset=pos, complete=status == "ok",
                                 per_member=True)
        if status == "cut":
            return
        pos = end
