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


def _lying_files(d):
    """Five gzip-per-record WARCs of 5 pages; in each, record 3 (or member 2) is broken."""
    from tests.unit.test_warc_frames import corrupt_member, third_lies

    broken = {"plus500": third_lies(500), "minus5": third_lies(-5), "abc": third_lies(b"abc"),
              "huge": third_lies(b"100000000000000000000000"), "corrupt": corrupt_member(5, 1)}
    for name, data in broken.items():
        (d / f"{name}.warc.gz").write_bytes(data)


def test_records_after_a_bad_one_are_read_and_counted(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    _lying_files(d)
    report = run(["--input", str(d / "*"), "--output", str(tmp_path / "out"), "--no_progress", *beam_args()])
    assert report["invariant_ok"], report["invariant_problems"]
    assert report["records_read"] == 25 and sum(report["errors"].values()) == 5


def test_the_invariant_fails_when_a_record_is_lost(tmp_path, monkeypatch):
    """records_read comes from the reader: a stage that silently loses a record breaks the check."""
    import apache_beam as beam

    from pipeline import dag
    from transforms.stage import REJECTED

    real = dag.STAGES["prefilter"]

    class LosesOne(beam.PTransform):
        def __init__(self, cfg):
            super().__init__()
            self.inner = real(cfg)

        def expand(self, docs):
            out = dict(docs | self.inner)
            out[REJECTED] = out[REJECTED] | beam.Filter(lambda r: not r["url"].endswith("/a.jp/3"))
            return out

    monkeypatch.setitem(dag.STAGES, "prefilter", LosesOne)
    d = tmp_path / "in"
    d.mkdir()
    (d / "pages.warc.gz").write_bytes(gz_members([response(f"http://a.jp/{i}", b"<html><body>x</body></html>")
                                                  for i in range(5)]))
    report = run(["--input", str(d / "*"), "--output", str(tmp_path / "out"), "--no_progress", *beam_args()],
                 strict=False)
    assert not report["invariant_ok"]
    assert any("records_read 5" in p for p in report["invariant_problems"])
