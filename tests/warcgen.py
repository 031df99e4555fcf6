"""Write small WARC files for tests (bad-input cases are built from real pages of tests/data)."""
from __future__ import annotations

import gzip
import uuid


def response(url: str, body: bytes, content_type: str = "text/html", date: str = "2020-01-01T00:00:00Z",
             record_id: str | None = None, status: str = "200 OK", declared_len: int | None = None,
             headers: dict[str, str] | None = None) -> bytes:
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    http = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{extra}\r\n".encode() + body
    rid = record_id or f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url + date)}>"
    length = len(http) if declared_len is None else declared_len
    head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: {rid}\r\nWARC-Target-URI: {url}\r\n"
            f"WARC-Date: {date}\r\nContent-Type: application/http; msgtype=response\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()
    return head + http + b"\r\n\r\n"


def warcinfo() -> bytes:
    body = b"software: tests\r\n"
    return (f"WARC/1.0\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: <urn:uuid:{uuid.uuid4()}>\r\n"
            f"WARC-Date: 2020-01-01T00:00:00Z\r\nContent-Type: application/warc-fields\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body + b"\r\n\r\n"


def gz_members(records: list[bytes]) -> bytes:
    """gzip-per-record, as Common Crawl writes WARCs."""
    return b"".join(gzip.compress(r) for r in records)
