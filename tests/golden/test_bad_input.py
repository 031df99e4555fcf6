"""The whole pipeline on bad input: never a crash, never a silently lost record."""
import gzip

import pyarrow.parquet as pq

from pipeline.cli import run
from tests.conftest import DATA, SAMPLE_WARCS, beam_args
from tests.warcgen import gz_members, response, warcinfo
from transforms.read_warc import iter_warc


def test_bad_inputs_are_counted_errors(tmp_path):
    real = next(p for k, p in iter_warc(SAMPLE_WARCS[0]) if k == "kept")["html"]
    d = tmp_path / "in"
    d.mkdir()
    good = gz_members([warcinfo(), response("http://ok.jp/a", real)])
    (d / "truncated.warc.gz").write_bytes(good + gzip.compress(response("http://ok.jp/b", real))[:-300])
    (d / "garbage.warc.gz").write_bytes(bytes(range(256)) * 20)
    (d / "empty.warc.gz").write_bytes(b"")
    (d / "plain.warc").write_bytes(warcinfo() + response("http://ok.jp/c", real))
    (d / "nobody.warc.gz").write_bytes(gzip.compress(response("http://ok.jp/d", b"", declared_len=400)[:-4]))
    (d / "pages.warc.gz").write_bytes(gz_members([
        response("http://big.jp/", b"<html><body>" + b"<p>x</p>" * (9 * 1024 * 1024 // 8) + b"</body></html>"),
        response("http://bin.jp/", b"<html lang=\"ja\">" + bytes(range(256)) * 100),  # passes the prefilter, then cannot decode
        response("http://nest.jp/", b"<html lang=\"ja\"><body>" + b"<div>" * 200_000 + "深い".encode() + b"</div>" * 200_000),
        response("http://sjis.jp/", "<html><title>日本語</title><body>シフトJISのページです。</body></html>".encode("cp932"),
                 content_type="text/html; charset=x-unknown"),
        response("http://badutf8.jp/", "<html><body>壊れた".encode() + b"\xff\xfe" + "UTF-8です".encode() + b"</body></html>",
                 content_type="text/html; charset=utf-8"),
    ]))
    (d / "real-bad.warc.gz").write_bytes((DATA / "warc_real" / "example-bad.warc.gz.bad").read_bytes())
    out = tmp_path / "out"
    report = run(["--input", str(d / "*"), "--output", str(out), "--extract_timeout", "1", *beam_args()])
    assert report["invariant_ok"], report["invariant_problems"]
    errors = report["errors"]
    assert errors.get("warc_read_error", 0) >= 1          # garbage
    assert errors.get("truncated_record", 0) >= 2          # truncated gzip, header without body
    assert errors.get("record_too_large", 0) == 1          # 9 MB page
    assert errors.get("undecodable", 0) == 1               # binary body
    assert errors.get("extract_timeout", 0) == 1           # 200k nested <div>
    all_errors = [r for f in sorted((out / "errors").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    assert len(all_errors) == sum(errors.values())
    assert all("@" in r["message"] and r["warc_file"] in r["message"] for r in all_errors)
