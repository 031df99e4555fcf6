"""Record helpers shared by rules: no Beam here (rules stay pure and importable anywhere)."""
from __future__ import annotations

from typing import Any, Protocol

# Fields never copied into a reject or an error record (prefilter rejects never store HTML).
HEAVY_FIELDS = ("html", "raw")



class RecordError(Exception):
    """A record that cannot be processed: becomes an ``errors`` element of kind ``kind``."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


class Rule(Protocol):
    name: str

    def setup(self) -> None: ...

    def __call__(self, record: dict) -> tuple[dict, str | None]: ...


def where(record: dict) -> str:
    """``file@offset`` of a record, for error messages."""
    return f"{record.get('warc_file', '?')}@{record.get('warc_offset', '?')}"


def reject_record(record: dict, stage: str, reason: str, **extra: Any) -> dict:
    out = {k: v for k, v in record.items() if k not in HEAVY_FIELDS}
    out["stage"] = stage
    out["reason"] = reason
    out.update(extra)
    return out


def error_record(record: dict, stage: str, kind: str, message: str) -> dict:
    return {
        "id": record.get("id"),
        "url": record.get("url"),
        "host": record.get("host"),
        "warc_file": record.get("warc_file"),
        "warc_offset": record.get("warc_offset"),
        "html_bytes": int(record.get("html_bytes") or 0),
        "text_chars": int(record.get("text_chars") or 0),
        "stage": stage,
        "kind": kind,
        "message": f"{where(record)}: {message}"[:2000],
    }
