"""Benchmark input: a WARC sample replicated N times with *distinct* record ids.

Each record is one gzip member. Copy ``k`` of a record gets a new ``WARC-Record-ID`` (a UUID5 of
the original id and ``k``; copy 0 keeps the original ids so the sample's labels still join), and
references to ids (``WARC-Concurrent-To``, ``WARC-Refers-To``, ``WARC-Warcinfo-ID``) are rewritten
the same way, so request/response pairs stay pairs. Bodies are untouched (so the copies' texts are
exact duplicates of each other: dedup workloads mutate texts themselves, see :func:`mutate_text`).
Every record is recompressed as its own gzip member: the output is a valid gzip-per-record WARC.
"""
from __future__ import annotations

import glob
import gzip
import os
import random
import re
import uuid
import zlib
from typing import Callable, Iterator

_ID_HEADERS = (b"WARC-Record-ID", b"WARC-Concurrent-To", b"WARC-Refers-To", b"WARC-Warcinfo-ID")
_URN = re.compile(rb"<urn:uuid:([0-9a-fA-F-]{36})>")


def gzip_members(data: bytes) -> Iterator[bytes]:
    """The decompressed members of a multi-member gzip file, one by one."""
    pos = 0
    while pos < len(data):
        d = zlib.decompressobj(wbits=31)
        out = d.decompress(data[pos:])
        out += d.flush()
        if not d.eof:
            raise ValueError(f"truncated gzip member at offset {pos}")
        yield out
        pos = len(data) - len(d.unused_data)
        while pos < len(data) and data[pos] == 0:  # padding between members (rare)
            pos += 1


def copy_id(orig: str, k: int) -> str:
    """The UUID string of copy ``k`` of record id ``orig`` (copy 0 is the original)."""
    return orig if k == 0 else str(uuid.uuid5(uuid.NAMESPACE_URL, f"{orig}#copy{k}"))


def split_record(raw: bytes) -> tuple[bytes, bytes]:
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("WARC record without header terminator")
    return head, rest


def header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def rewrite_ids(raw: bytes, k: int) -> bytes:
    """The record ``raw`` (one decompressed WARC record) with every id header mapped to copy ``k``."""
    if k == 0:
        return raw
    head, rest = split_record(raw)
    lines = head.split(b"\r\n")
    for i, line in enumerate(lines[1:], start=1):
        name = line.partition(b":")[0].strip()
        if any(name.lower() == h.lower() for h in _ID_HEADERS):
            lines[i] = _URN.sub(lambda m: b"<urn:uuid:" + copy_id(m.group(1).decode(), k).encode() + b">", line)
    return b"\r\n".join(lines) + b"\r\n\r\n" + rest


def record_id(raw: bytes) -> str:
    v = header(split_record(raw)[0], b"WARC-Record-ID")
    return v.decode("utf-8", "replace") if v is not None else ""


def replicate(inputs: list[str], out_dir: str, copies: int,
              keep: Callable[[bytes], bool] | None = None, level: int = 6,
              prefix: str = "rep", out_files: int | None = None) -> dict:
    """Write ``copies`` copies of every input file (``<prefix>-<k>-<name>``) into ``out_dir``.

    ``out_files``: instead, spread all copies over this many files (``<prefix>-<i>.warc.gz``), so
    that files hold thousands of records as Common Crawl's do (~40k): with a few records per file,
    the per-file (per-bundle) cost of a Beam runner dominates and hides the per-record cost.

    ``keep(raw_record)``: optional filter (e.g. only non-Japanese responses); warcinfo records are
    always kept. Returns ``{"files", "records", "responses", "bytes", "uncompressed_bytes"}``."""
    os.makedirs(out_dir, exist_ok=True)
    stats = {"files": [], "records": 0, "responses": 0, "bytes": 0, "uncompressed_bytes": 0}
    members_by_file = []
    for path in sorted(inputs):
        with open(path, "rb") as f:
            members = list(gzip_members(f.read()))
        if keep is not None:
            members = [m for m in members if header(split_record(m)[0], b"WARC-Type") == b"warcinfo" or keep(m)]
        members_by_file.append((path, members))
    for k in range(copies):
        for path, members in members_by_file:
            if out_files:
                out = os.path.join(out_dir, f"{prefix}-{k % out_files:04d}.warc.gz")
            else:
                out = os.path.join(out_dir, f"{prefix}-{k:04d}-{os.path.basename(path)}")
            with open(out, "ab" if out_files else "wb") as f:
                for m in members:
                    rec = rewrite_ids(m, k)
                    f.write(gzip.compress(rec, compresslevel=level, mtime=0))
                    stats["records"] += 1
                    stats["uncompressed_bytes"] += len(rec)
                    if header(split_record(rec)[0], b"WARC-Type") == b"response":
                        stats["responses"] += 1
            if out not in stats["files"]:
                stats["files"].append(out)
    stats["bytes"] = sum(os.path.getsize(f) for f in stats["files"])
    return stats


def uncompressed_size(inputs: list[str]) -> int:
    total = 0
    for path in inputs:
        with gzip.open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                total += len(chunk)
    return total


def copies_for(inputs: list[str], target_mb: float) -> int:
    """How many copies make at least ``target_mb`` MB (10^6 bytes) of uncompressed WARC."""
    size = uncompressed_size(inputs)
    return max(1, -(-int(target_mb * 1e6) // size))


def sample_files(pattern: str) -> list[str]:
    files = sorted(glob.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no WARC file matches {pattern!r}")
    return files


_KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"


def mutate_text(text: str, frac: float, seed: int) -> str:
    """Replace about ``frac`` of the characters (not newlines) with random hiragana: a near copy
    (Jaccard of 5-gram sets drops by roughly 5·frac), as the dedup issue's scale test needs."""
    if frac <= 0 or not text:
        return text
    rng = random.Random(seed)
    chars = list(text)
    n = max(1, int(len(chars) * frac))
    for i in rng.sample(range(len(chars)), min(n, len(chars))):
        if chars[i] != "\n":
            chars[i] = rng.choice(_KANA)
    return "".join(chars)
