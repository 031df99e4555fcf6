"""ReadWarc on real crawler output and on bad input: never a crash, never a silently lost record."""
import gzip
import os
from collections import Counter

import pytest

from tests.conftest import DATA, SAMPLE_WARCS
from tests.warcgen import gz_members, response, warcinfo
from transforms.read_warc import check_inputs, match_inputs
from transforms.warc_records import ReadConfig, host_of, iter_warc, record_hash

REAL = DATA / "warc_real"


def outcomes(path, cfg=ReadConfig()):
    got = Counter()
    msgs = []
    for kind, payload in iter_warc(str(path), cfg):
        if kind == "skipped":
            got["skipped"] += payload
        else:
            got[(kind, payload.get("reason") or payload.get("kind") or "")] += 1
            if kind == "errors":
                msgs.append(payload["message"])
    return got, msgs


def test_sample_crawl_all_responses_read():
    total = Counter()
    for p in SAMPLE_WARCS:
        got, msgs = outcomes(p)
        total.update(got)
        assert not msgs
    # 569 responses: 551 HTML + 18 RSS/Atom feeds served as application/rss+xml etc.
    assert total[("kept", "")] == 551
    assert total[("rejected", "not_html_v1")] == 18
    assert total["skipped"] == 579  # warcinfo + request records


def test_record_fields():
    kind, rec = next(iter_warc(SAMPLE_WARCS[0]))
    assert kind == "kept"
    assert rec["id"] == record_hash("<urn:uuid:bf55c0e0-4638-4c74-8e2a-633ff2bd2a66>")
    assert rec["url"] == "https://weisslj.github.io/namazu/doc/ja/tips.html"
    assert rec["host"] == "weisslj.github.io"
    assert rec["crawl_date"] == "2015-10-24T10:17:33Z"
    assert rec["warc_file"] == SAMPLE_WARCS[0] and rec["warc_offset"] > 0
    assert isinstance(rec["html"], bytes) and rec["html_bytes"] == len(rec["html"])


@pytest.mark.parametrize("reader", ["fastwarc", "warcio"])
def test_an_open_stream_reads_like_its_path(reader, monkeypatch):
    import io

    from transforms import warc_records

    path = SAMPLE_WARCS[1]
    if reader == "warcio":  # what iter_warc falls back to where fastwarc has no wheel
        monkeypatch.setattr(warc_records, "_iter_fastwarc", warc_records._iter_warcio)
    with open(path, "rb") as f:
        from_stream = list(iter_warc(path, stream=io.BytesIO(f.read())))
    from_path = list(iter_warc(path))
    assert from_stream == from_path and len(from_path) > 10


def test_real_crawler_files_read_without_crash():
    for p in sorted(REAL.iterdir()):
        got, msgs = outcomes(p)
        for m in msgs:
            assert str(p) in m  # every error names its file (and offset)


def test_broken_gzip_real_file_reports_error_or_records():
    got, msgs = outcomes(REAL / "example-bad.warc.gz.bad")
    assert sum(v for k, v in got.items() if k != "skipped") >= 1 or msgs


@pytest.fixture
def real_page() -> bytes:
    kind, rec = next(iter_warc(SAMPLE_WARCS[0]))
    return rec["html"]


def test_truncated_gzip(tmp_path, real_page):
    data = gz_members([warcinfo()] + [response(f"http://a.jp/{i}", real_page) for i in range(5)])
    p = tmp_path / "trunc.warc.gz"
    p.write_bytes(data[: len(data) - 200])
    got, msgs = outcomes(p)
    assert got[("kept", "")] == 4
    assert got[("errors", "truncated_record")] + got[("errors", "warc_read_error")] == 1
    assert all(str(p) in m and "@" in m for m in msgs)


def test_garbage_bytes(tmp_path):
    p = tmp_path / "garbage.warc.gz"
    p.write_bytes(bytes(range(256)) * 40)
    got, msgs = outcomes(p)
    assert got[("errors", "warc_read_error")] == 1
    assert f"{p}@0" in msgs[0]


def test_empty_file(tmp_path):
    p = tmp_path / "empty.warc.gz"
    p.write_bytes(b"")
    got, _ = outcomes(p)
    assert got == Counter()


def test_plain_uncompressed_warc(tmp_path, real_page):
    p = tmp_path / "plain.warc"
    p.write_bytes(b"".join([warcinfo(), response("http://a.jp/", real_page)]))
    got, _ = outcomes(p)
    assert got[("kept", "")] == 1 and got["skipped"] == 1


def test_header_without_body(tmp_path):
    head = response("http://a.jp/", b"", declared_len=500)
    p = tmp_path / "nobody.warc.gz"
    p.write_bytes(gzip.compress(head.split(b"HTTP/1.1")[0]))
    got, msgs = outcomes(p)
    assert got[("errors", "truncated_record")] == 1
    assert "0 of 500" in msgs[0]


def test_huge_page_is_an_error_not_a_memory_spike(tmp_path):
    body = b"<html><body>" + b"<p>x</p>" * (50 * 1024 * 1024 // 8) + b"</body></html>"
    p = tmp_path / "huge.warc.gz"
    p.write_bytes(gz_members([response("http://big.jp/", body), response("http://ok.jp/", b"<html>ok</html>")]))
    got, msgs = outcomes(p)
    assert got[("errors", "record_too_large")] == 1 and got[("kept", "")] == 1
    assert "max_record_bytes" in msgs[0]


def test_non_2xx_and_non_html_rejected_with_reasons(tmp_path):
    p = tmp_path / "mixed.warc.gz"
    p.write_bytes(gz_members([
        response("http://a.jp/r", b"", status="301 Moved Permanently"),
        response("http://a.jp/feed", b"<rss></rss>", content_type="application/rss+xml"),
        response("http://a.jp/img", b"\x89PNG", content_type="image/png"),
    ]))
    got, _ = outcomes(p)
    assert got[("rejected", "http_status_v1")] == 1 and got[("rejected", "not_html_v1")] == 2


def test_missing_input_fails_fast(tmp_path):
    with pytest.raises(FileNotFoundError, match="match no file"):
        check_inputs([str(tmp_path / "nothing-*.warc.gz")])


@pytest.mark.parametrize("url,host", [("https://WWW.Example.JP./a?b", "www.example.jp"), ("not a url", ""),
                                      ("http://[::1", "")])
def test_host_of(url, host):
    assert host_of(url) == host


# --- HTTP transfer and content codings -------------------------------------------------------
import zlib  # noqa: E402

import brotli  # noqa: E402
import zstandard  # noqa: E402

from transforms.http_codings import CodingError, dechunk, http_codings, undo_http_codings  # noqa: E402

_PAGE = "<html><head><title>テスト</title></head><body><p>日本語のページです。</p></body></html>".encode()


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)  # deterministic: test ids must match across xdist workers


def _chunked(data: bytes, sizes=(7, 30), ext: bool = False) -> bytes:
    out, pos, i = [], 0, 0
    while pos < len(data):
        n = sizes[i % len(sizes)]
        piece = data[pos : pos + n]
        out.append(f"{len(piece):x}{';name=v' if ext else ''}\r\n".encode() + piece + b"\r\n")
        pos, i = pos + n, i + 1
    return b"".join(out) + b"0\r\nX-Trailer: t\r\n\r\n"


def _raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-15)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize("te,ce,want", [
    (None, None, ()),
    ("chunked", None, ("chunked",)),
    ("Chunked", "GZIP", ("chunked", "gzip")),
    ("gzip, chunked", None, ("chunked", "gzip")),
    (None, "deflate, br", ("br", "deflate")),
    (None, "identity", ()),
    (None, "x-gzip", ("gzip",)),
    ("", " ", ()),
])
def test_http_codings_order(te, ce, want):
    assert http_codings(te, ce) == want


@pytest.mark.parametrize("encoded,codings", [
    (_chunked(_PAGE), ("chunked",)),
    (_chunked(_PAGE, sizes=(1,), ext=True), ("chunked",)),
    (_chunked(_PAGE).replace(b"\r\n", b"\n"), ("chunked",)),              # bare LF
    (_gz(_PAGE), ("gzip",)),
    (zlib.compress(_PAGE), ("gzip",)),                                     # zlib header as gzip
    (zlib.compress(_PAGE), ("deflate",)),
    (_raw_deflate(_PAGE), ("deflate",)),                                   # raw deflate as "deflate"
    (brotli.compress(_PAGE), ("br",)),
    (zstandard.ZstdCompressor().compress(_PAGE), ("zstd",)),
    (_chunked(_gz(_PAGE)), ("chunked", "gzip")),
    (_gz(brotli.compress(_PAGE)), ("gzip", "br")),               # Content-Encoding: br, gzip
    (_PAGE, ("chunked",)),                                                 # header kept, coding removed
    (_PAGE, ("gzip",)),
    (_PAGE, ("deflate",)),
    (_PAGE, ("br",)),
    (_PAGE, ("zstd",)),
], ids=lambda v: "-".join(v) if isinstance(v, tuple) else "payload")
def test_undo_http_codings(encoded, codings):
    assert undo_http_codings(encoded, codings, limit=1 << 20) == _PAGE


def test_a_compressed_stream_cut_short_gives_what_it_holds():
    got = undo_http_codings(_gz(_PAGE)[:-30], ("gzip",), limit=1 << 20)
    assert _PAGE.startswith(got) and len(got) > 20


def test_dechunk_cut_inside_a_chunk_and_bad_later_header():
    body = _chunked(_PAGE, sizes=(40,))
    assert _PAGE.startswith(dechunk(body[:50])) and dechunk(body[:50])
    broken = b"5\r\nhello\r\nzz\r\n world"
    assert dechunk(broken) == b"hellozz\r\n world"  # the rest kept raw, as warcio does


@pytest.mark.parametrize("encoded,codings,kind", [
    (b"\x1f\x8b" + b"\x00" * 40, ("gzip",), "content_encoding_error"),     # gzip magic, corrupt
    (b"\x78\x9c" + b"\xff" * 40, ("deflate",), "content_encoding_error"),
    (b"\x28\xb5\x2f\xfd" + b"\xff" * 40, ("zstd",), "content_encoding_error"),
    (_PAGE, ("compress",), "content_encoding_error"),                      # unknown coding
    (_gz(b"<p>" + b"a" * 5000), ("gzip",), "record_too_large"),  # bomb past the limit
    (brotli.compress(b"a" * 5000), ("br",), "record_too_large"),
    (zstandard.ZstdCompressor().compress(b"a" * 5000), ("zstd",), "record_too_large"),
    (_chunked(b"a" * 5000, sizes=(4000,)), ("chunked",), "record_too_large"),
], ids=lambda v: v if isinstance(v, str) else "-".join(v) if isinstance(v, tuple) else "payload")
def test_undo_http_codings_errors(encoded, codings, kind):
    with pytest.raises(CodingError) as e:
        undo_http_codings(encoded, codings, limit=1000)
    assert e.value.kind == kind and str(e.value)


def test_coded_payloads_are_read_as_pages(tmp_path):
    recs = [
        response("http://a.jp/gz", _gz(_PAGE), headers={"Content-Encoding": "gzip"}),
        response("http://a.jp/ch", _chunked(_PAGE), headers={"Transfer-Encoding": "chunked"}),
        response("http://a.jp/br", brotli.compress(_PAGE), headers={"Content-Encoding": "br"}),
        response("http://a.jp/bad", b"\x1f\x8b" + b"\x00" * 40, headers={"Content-Encoding": "gzip"}),
        response("http://a.jp/big", _gz(b"<p>" + b"a" * 20000), headers={"Content-Encoding": "gzip"}),
    ]
    path = tmp_path / "coded.warc.gz"
    path.write_bytes(gz_members([warcinfo(), *recs]))
    got = {p["url"]: (k, p) for k, p in iter_warc(str(path), ReadConfig(max_record_bytes=10000)) if k != "skipped"}
    for url in ("http://a.jp/gz", "http://a.jp/ch", "http://a.jp/br"):
        kind, rec = got[url]
        assert kind == "kept" and rec["html"] == _PAGE and rec["html_bytes"] == len(_PAGE)
    assert got["http://a.jp/bad"][0] == "errors" and got["http://a.jp/bad"][1]["kind"] == "content_encoding_error"
    assert got["http://a.jp/big"][0] == "errors" and got["http://a.jp/big"][1]["kind"] == "record_too_large"


@pytest.mark.parametrize("path", [str(REAL / "example-iana.org-chunked.warc"),
                                  str(REAL / "warcio-example-gzip.warc.gz"), SAMPLE_WARCS[0]])
def test_fastwarc_and_warcio_read_the_same_records(path, monkeypatch):
    """Same records, same pages, same offsets, whichever reader: warcio removes transfer and
    content codings itself, the fastwarc path undoes them."""
    from transforms import warc_records

    def read():
        return [(k, {f: p.get(f) for f in ("id", "url", "warc_offset", "html", "http_charset")})
                for k, p in iter_warc(path) if k != "skipped"]

    fast = read()
    monkeypatch.setattr(warc_records, "_iter_fastwarc", warc_records._iter_warcio)
    slow = read()
    assert fast == slow and fast
    if path.startswith(str(REAL)):  # a chunked and a gzip-coded page: decoded to their markup
        assert all(p["html"].lstrip()[:9].lower() == b"<!doctype" for k, p in fast if k == "kept")


def test_codings_are_undone_only_for_pages(tmp_path):
    """A non-HTML or non-2xx record is rejected as before, its payload never inflated (a
    corrupt gzip image is a not_html_v1 reject, not a content_encoding_error)."""
    corrupt = b"\x1f\x8b" + b"\x00" * 40
    recs = [
        response("http://a.jp/img", corrupt, content_type="image/png", headers={"Content-Encoding": "gzip"}),
        response("http://a.jp/404", corrupt, status="404 Not Found", headers={"Content-Encoding": "gzip"}),
        response("http://a.jp/untyped", _gz(_PAGE), content_type="", headers={"Content-Encoding": "gzip"}),
    ]
    path = tmp_path / "pages.warc.gz"
    path.write_bytes(gz_members(recs))
    got = {p["url"]: (k, p) for k, p in iter_warc(str(path)) if k != "skipped"}
    assert got["http://a.jp/img"][0] == "rejected" and got["http://a.jp/img"][1]["reason"] == "not_html_v1"
    assert got["http://a.jp/404"][0] == "rejected" and got["http://a.jp/404"][1]["reason"] == "http_status_v1"
    assert got["http://a.jp/untyped"][0] == "kept" and got["http://a.jp/untyped"][1]["html"] == _PAGE


def test_match_inputs_names_each_file_once_as_the_reader_does(tmp_path):
    (tmp_path / "a.warc.gz").write_bytes(b"x" * 3)
    (tmp_path / "link.warc.gz").symlink_to(tmp_path / "a.warc.gz")
    found, missing = match_inputs([str(tmp_path / "*.warc.gz"), str(tmp_path / "a.warc.gz"),
                                   str(tmp_path / "none-*.warc.gz")])
    assert found == {os.path.realpath(tmp_path / "a.warc.gz"): 3}
    assert missing == [str(tmp_path / "none-*.warc.gz")]
