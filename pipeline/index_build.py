"""``swallow-corpus index --input 'warcs/*.warc.gz' --output index.parquet [--detect_languages]``

Builds a Common Crawl-style columnar index (the columns of ``cc-index-table``'s flat schema that
:mod:`transforms.read_index` and users need) for WARC files one has locally, so the index-assisted
read works without CC's published index (and the tests can use it). One row per ``response``
record; ``warc_record_offset``/``warc_record_length`` are the record's gzip member in the file.

``content_languages``: from the WARC's own ``metadata`` record (CC writes one per response, with
``languages-cld2: {json}``, linked by ``WARC-Concurrent-To``) when present; else, with
``--detect_languages`` and ``pycld2`` installed, from CLD2 on the decoded page as CC does
(HTML given to CLD2 with ``isPlainText=False``, up to three languages, most text first); else null
(as in CC's crawls before 2018-39). ``content_mime_detected`` is an approximation of CC's (Tika):
the header's type, or ``text/html`` when the header has none and the body looks like HTML.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import sys
from typing import Iterator

log = logging.getLogger(__name__)

#: Column order and Arrow types as in CC's ``cc-index-schema-flat.json`` (a subset).
COLUMNS = {
    "url": "string", "url_host_name": "string", "fetch_time": "timestamp", "fetch_status": "int16",
    "content_digest": "string", "content_mime_type": "string", "content_mime_detected": "string",
    "content_charset": "string", "content_languages": "string", "warc_filename": "string",
    "warc_record_offset": "int64", "warc_record_length": "int64", "subset": "string",
}

#: CLD2 reports ISO-639-1 codes where one exists; CC's index has ISO-639-3 (its ``code-iso-639-3``).
ISO639_3 = {
    "ja": "jpn", "en": "eng", "zh": "zho", "zh-Hant": "zho", "ko": "kor", "de": "deu", "fr": "fra",
    "es": "spa", "it": "ita", "pt": "por", "ru": "rus", "nl": "nld", "pl": "pol", "sv": "swe",
    "da": "dan", "no": "nor", "nb": "nor", "fi": "fin", "cs": "ces", "sk": "slk", "hu": "hun",
    "ro": "ron", "bg": "bul", "el": "ell", "tr": "tur", "ar": "ara", "he": "heb", "iw": "heb",
    "fa": "fas", "hi": "hin", "th": "tha", "vi": "vie", "id": "ind", "ms": "msa", "uk": "ukr",
    "ca": "cat", "hr": "hrv", "sr": "srp", "sl": "slv", "et": "est", "lv": "lav", "lt": "lit",
    "bn": "ben", "ta": "tam", "te": "tel", "ur": "urd", "tl": "tgl", "la": "lat", "eo": "epo",
    "an": "arg", "eu": "eus", "gl": "glg", "is": "isl", "ga": "gle", "cy": "cym", "af": "afr",
    "sq": "sqi", "mk": "mkd", "hy": "hye", "ka": "kat", "az": "aze", "kk": "kaz", "mn": "mon",
    "sw": "swa", "km": "khm", "lo": "lao", "my": "mya", "ne": "nep", "si": "sin", "mr": "mar",
}


def cld2_languages(html: str, max_languages: int = 3) -> str | None:
    """CC-style ``content_languages`` for a decoded page: CLD2's top languages (ISO-639-3,
    comma-separated, most text first), or None when CLD2 finds none or is not installed."""
    try:
        import pycld2
    except ImportError:
        return None
    try:
        _, _, details = pycld2.detect(html, isPlainText=False)[:3]
    except (pycld2.error, ValueError):
        # CLD2 refuses invalid UTF-8 (e.g. surrogates): retry on a cleaned copy.
        try:
            clean = html.encode("utf-8", "replace").decode("utf-8", "replace")
            _, _, details = pycld2.detect(clean, isPlainText=False)[:3]
        except Exception:
            return None
    codes = []
    for _name, code, _pct, _score in details:
        if code in ("un", "xx") or not code:
            continue
        c = ISO639_3.get(code, code)
        if c not in codes:
            codes.append(c)
    return ",".join(codes[:max_languages]) or None


def metadata_languages(body: bytes) -> str | None:
    """``content_languages`` from a CC metadata record's ``languages-cld2: {json}`` line."""
    for line in body.splitlines():
        if line.startswith(b"languages-cld2:"):
            try:
                doc = json.loads(line.split(b":", 1)[1].strip())
            except ValueError:
                return None
            codes = [x.get("code-iso-639-3") or ISO639_3.get(x.get("code", ""), x.get("code"))
                     for x in doc.get("languages", [])]
            return ",".join(c for c in codes if c) or None
    return None


def _fetch_time(iso: str):
    try:
        return _dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None


def index_rows(path: str, detect_languages: bool = False) -> Iterator[dict]:
    """Index rows of one WARC file (responses only), in file order."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from transforms.decode import decode_html
    from transforms.warc_records import _iso, _open, host_of, looks_like_html

    rows, order, langs_by_id = {}, [], {}
    starts = []
    with _open(path) as fh:
        for rec in ArchiveIterator(fh, parse_http=True):
            starts.append(rec.stream_pos)
            h = rec.headers
            if rec.record_type == WarcRecordType.metadata:
                langs = metadata_languages(rec.reader.read())
                if langs:
                    langs_by_id[h.get("WARC-Concurrent-To", "")] = langs
                continue
            if rec.record_type != WarcRecordType.response:
                continue
            status = ctype = charset = None
            if rec.is_http and rec.http_headers is not None:
                status = rec.http_headers.status_code
                ctype = rec.http_headers.get("Content-Type", "")
                charset = rec.http_charset
            body = rec.reader.read()
            mime = (ctype or "").split(";")[0].strip().lower() or None
            url = h.get("WARC-Target-URI", "")
            detected = None
            if detect_languages:
                try:
                    detected = cld2_languages(decode_html(body, charset)[0])
                except ValueError:  # binary body: CC would detect nothing either
                    detected = None
            rid = h.get("WARC-Record-ID", "")
            rows[len(starts) - 1] = {
                "url": url, "url_host_name": host_of(url), "fetch_time": _fetch_time(_iso(h.get("WARC-Date", ""))),
                "fetch_status": status, "content_digest": (h.get("WARC-Payload-Digest") or "").removeprefix("sha1:") or None,
                "content_mime_type": mime,
                "content_mime_detected": mime or ("text/html" if looks_like_html(body) else None),
                "content_charset": charset, "content_languages": detected, "warc_filename": path,
                "warc_record_offset": rec.stream_pos, "subset": "warc", "_id": rid,
            }
            order.append(len(starts) - 1)
    with _open(path) as fh:
        fh.seek(0, 2)
        size = fh.tell()
    for i in order:
        row = rows[i]
        end = starts[i + 1] if i + 1 < len(starts) else size
        row["warc_record_length"] = end - row["warc_record_offset"]
        rid = row.pop("_id")
        if rid in langs_by_id:  # the WARC's own CLD2 result wins, as in CC's index
            row["content_languages"] = langs_by_id[rid]
        yield row


def schema():
    import pyarrow as pa

    types = {"string": pa.string(), "int16": pa.int16(), "int64": pa.int64(),
             "timestamp": pa.timestamp("us", tz="UTC")}
    return pa.schema([(k, types[v]) for k, v in COLUMNS.items()])


def build_index(patterns: list[str], output: str, detect_languages: bool = False) -> int:
    """Write one Parquet index for all WARC files the globs match; return the number of rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from apache_beam.io.filesystems import FileSystems

    from transforms.read_warc import match_inputs

    # Absolute warc_filename: the index works from any directory (CC's are relative to the bucket,
    # resolved with IndexReadConfig.warc_root; a local index has no such root).
    paths = sorted(match_inputs(patterns)[0])
    if not paths:
        raise FileNotFoundError(f"input pattern(s) match no file: {', '.join(patterns)}")
    if detect_languages:
        try:
            import pycld2  # noqa: F401
        except ImportError:
            log.warning("--detect_languages: pycld2 is not installed; content_languages stays null "
                        "where the WARC has no metadata record (pip install pycld2)")
    rows = [r for p in paths for r in index_rows(p, detect_languages)]
    table = pa.Table.from_pylist(rows, schema=schema())
    with FileSystems.create(output) as f:
        pq.write_table(table, f)
    return table.num_rows


def main(argv: list[str]) -> int:
    from pipeline.argv import OneLineParser

    ap = OneLineParser(prog="python -m pipeline index",
                       description="Build a Common Crawl-style URL index (Parquet, cc-index-table columns) of "
                                   "WARC files, for `python -m pipeline run --index`.")
    ap.add_argument("--input", action="append", required=True, help="WARC glob(s); repeatable")
    ap.add_argument("--output", required=True, help="Parquet file to write (any filesystem Beam knows)")
    ap.add_argument("--detect_languages", action="store_true",
                    help="CLD2 (pycld2) on pages whose WARC has no languages-cld2 metadata record")
    args = ap.parse_args(argv)
    try:
        n = build_index(args.input, args.output, args.detect_languages)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"index: {n} rows → {args.output}")
    return 0
