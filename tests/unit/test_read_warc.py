"""ReadWarc on real crawler output and on bad input: never a crash, never a silently lost record."""
import gzip
from collections import Counter

import pytest

from tests.conftest import DATA, SAMPLE_WARCS
from tests.warcgen import gz_members, response, warcinfo
from transforms.read_warc import ReadConfig, check_inputs, host_of, iter_warc, record_hash

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

    from transforms import read_warc

    path = SAMPLE_WARCS[1]
    if reader == "warcio":  # what iter_warc falls back to where fastwarc has no wheel
        monkeypatch.setattr(read_warc, "_iter_fastwarc", read_warc._iter_warcio)
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
