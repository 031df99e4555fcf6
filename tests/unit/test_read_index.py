"""Index-assisted read: the selection rule, ranged reads of one gzip member, the index builder."""
import gzip
import io

import pyarrow.parquet as pq
import pytest

from pipeline.cli import main as cli_main
from pipeline.index_build import COLUMNS, cld2_languages, index_rows, metadata_languages
from tests.conftest import DATA, SAMPLE_WARCS
from tests.warcgen import gz_members, response, warcinfo
from transforms.read_index import IndexReadConfig, read_range, read_ranges, select
from transforms.read_warc import iter_warc

JA = IndexReadConfig()


def row(**kw):
    base = {"fetch_status": 200, "content_mime_detected": "text/html", "content_languages": "jpn"}
    base.update(kw)
    return base


@pytest.mark.parametrize("r, cfg, expected", [
    (row(), JA, (True, "language")),
    (row(content_languages="eng,jpn"), JA, (True, "language")),          # Japanese not first: still read
    (row(content_languages="eng,jpn,fra"), JA, (True, "language")),
    (row(content_languages="eng"), JA, (False, "language_v1")),
    (row(content_languages="zho,kor"), JA, (False, "language_v1")),
    (row(content_languages=None), JA, (True, "unknown_language")),        # pre-2018 crawls
    (row(content_languages=""), JA, (True, "unknown_language")),
    (row(content_languages=None), IndexReadConfig(keep_unknown_language=False), (False, "unknown_language_v1")),
    (row(fetch_status=301), JA, (False, "status_v1")),
    (row(fetch_status=199), JA, (False, "status_v1")),
    (row(fetch_status=299), JA, (True, "language")),
    (row(fetch_status=404), IndexReadConfig(only_2xx=False), (True, "language")),
    (row(fetch_status=None), JA, (True, "language")),
    (row(content_mime_detected="application/pdf"), JA, (False, "mime_v1")),
    (row(content_mime_detected="application/xhtml+xml"), JA, (True, "language")),
    (row(content_mime_detected=None, content_mime_type="text/html; charset=utf-8"), JA, (True, "language")),
    (row(content_mime_detected="application/pdf"), IndexReadConfig(mime_types=()), (True, "language")),
    (row(content_languages="eng"), IndexReadConfig(languages=("jpn", "eng")), (True, "language")),
])
def test_select(r, cfg, expected):
    assert select(r, cfg) == expected


def test_config_rejects_two_letter_codes():
    with pytest.raises(ValueError, match="ISO-639-3"):
        IndexReadConfig(languages=("ja",))


PAGE = b"<html lang='ja'><title>t</title><body>" + "日本語".encode() + b"</body></html>"
RECORDS = [warcinfo(), response("http://a.jp/", PAGE), response("http://b.jp/", PAGE, status="404 Not Found")]


def _file():
    members = [gzip.compress(r) for r in RECORDS]
    offsets = [sum(len(m) for m in members[:i]) for i in range(len(members))]
    return b"".join(members), offsets, [len(m) for m in members]


def test_read_range_table():
    data, offsets, lengths = _file()
    fh = io.BytesIO(data)
    cases = [
        ((offsets[1], lengths[1]), ("kept", None)),
        ((offsets[2], lengths[2]), ("rejected", "http_status_v1")),
        ((offsets[1] + 1, lengths[1]), ("errors", "no gzip member starts here")),       # wrong offset
        ((offsets[1], lengths[1] - 20), ("errors", "truncated")),                         # truncated length
        ((offsets[1], lengths[1] + lengths[2]), ("errors", "more than one record")),      # spans two members
        ((offsets[0], lengths[0]), ("errors", "not a response")),                          # warcinfo
        ((offsets[2], lengths[2] + 50), ("errors", "file ends")),                          # past the end
        ((0, 0), ("errors", "invalid range")),
    ]
    for (off, length), (outcome, detail) in cases:
        got, rec = read_range(fh, off, length, "f.warc.gz")
        assert got == outcome, (off, length, rec)
        if outcome == "errors":
            assert rec["kind"] == "index_range_error"
            assert detail in rec["message"] and f"f.warc.gz@{off}" in rec["message"]
        elif outcome == "rejected":
            assert rec["reason"] == detail
    got, rec = read_range(io.BytesIO(b"WARC/1.0\r\n" * 50), 0, 100, "plain.warc")   # not gzip
    assert (got, rec["kind"]) == ("errors", "index_range_error")
    got, rec = read_range(fh, offsets[1], lengths[1], "f.warc.gz", url="http://other.jp/")  # stale index
    assert got == "errors" and "stale index" in rec["message"]


def test_read_ranges_identical_to_full_scan():
    for path in SAMPLE_WARCS[:3]:
        full = {rec["warc_offset"]: (kind, rec) for kind, rec in iter_warc(path) if kind != "skipped"}
        ranges = [(r["warc_record_offset"], r["warc_record_length"], r["url"]) for r in index_rows(path)]
        got = list(read_ranges(path, reversed(ranges)))  # any order in, offset order out
        assert [rec["warc_offset"] for _, rec in got] == sorted(full)
        assert all(full[rec["warc_offset"]] == (kind, rec) for kind, rec in got)


def test_metadata_languages_from_real_cc_file():
    rows = list(index_rows(str(DATA / "warc_real" / "whirlwind.warc.gz")))
    assert rows and rows[0]["content_languages"] == "spa"   # from the WARC's languages-cld2 record
    assert metadata_languages(b'languages-cld2: {"languages":[{"code":"ja","code-iso-639-3":"jpn"},'
                              b'{"code":"en","code-iso-639-3":"eng"}]}\r\n') == "jpn,eng"
    assert metadata_languages(b"fetchTimeMs: 3\r\n") is None


def test_cld2_languages():
    pytest.importorskip("pycld2")
    assert cld2_languages("<html><body><p>" + "これは日本語の文章です。今日は良い天気ですね。" * 5 + "</p></body></html>") == "jpn"
    assert cld2_languages("") is None


def test_cli_index_writes_cc_columns(tmp_path):
    warcs = tmp_path / "w"
    warcs.mkdir()
    (warcs / "a.warc.gz").write_bytes(gz_members(RECORDS))
    out = tmp_path / "index.parquet"
    assert cli_main(["index", "--input", str(warcs / "*.warc.gz"), "--output", str(out)]) == 0
    table = pq.read_table(out)
    assert table.column_names == list(COLUMNS)
    rows = table.to_pylist()
    assert [(r["url"], r["fetch_status"], r["content_mime_detected"], r["content_languages"]) for r in rows] == [
        ("http://a.jp/", 200, "text/html", None), ("http://b.jp/", 404, "text/html", None)]
    data, offsets, lengths = _file()
    assert [(r["warc_record_offset"], r["warc_record_length"]) for r in rows] == list(zip(offsets[1:], lengths[1:]))
    assert all(r["warc_filename"].endswith("a.warc.gz") and r["url_host_name"] for r in rows)
