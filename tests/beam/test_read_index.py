"""ReadWarcIndexed in a pipeline: exactly ReadWarc's records for the selected index rows."""
import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from pipeline.index_build import build_index
from tests.conftest import SAMPLE_WARCS
from transforms.read_index import NOT_SELECTED, IndexReadConfig, ReadWarcIndexed, select
from transforms.read_warc import iter_warc

FIELDS = ("id", "url", "host", "crawl_date", "warc_file", "warc_offset", "html", "http_charset", "html_bytes")


def view(r):
    return tuple(r.get(k) for k in FIELDS) + (r.get("reason"), r.get("kind"))


def test_indexed_read_yields_readwarc_records_for_selected_rows(tmp_path, test_pipeline):
    import pyarrow.parquet as pq

    index = tmp_path / "index.parquet"
    build_index(SAMPLE_WARCS, str(index), detect_languages=True)
    # English pages selected too, so kept and rejected records both appear; 404s etc. not read.
    cfg = IndexReadConfig(languages=("jpn", "eng"), mime_types=())
    rows = pq.read_table(index).to_pylist()
    chosen = {(r["warc_filename"], r["warc_record_offset"]) for r in rows if select(r, cfg)[0]}
    assert 0 < len(chosen) < len(rows)
    expected = {"kept": [], "rejected": [], "errors": []}
    for path in SAMPLE_WARCS:
        for kind, rec in iter_warc(path):
            if kind != "skipped" and (path, rec["warc_offset"]) in chosen:
                expected[kind].append(view(rec))
    assert expected["kept"] and expected["rejected"]
    not_selected = {}
    for r in rows:
        ok, reason = select(r, cfg)
        if not ok:
            not_selected[reason] = not_selected.get(reason, 0) + 1

    with test_pipeline as p:
        out = p | ReadWarcIndexed([str(index)], cfg)
        for kind in ("kept", "rejected", "errors"):
            assert_that(out[kind] | f"View.{kind}" >> beam.Map(view),
                        equal_to(expected[kind]), label=f"Check.{kind}")
        assert_that(out[NOT_SELECTED], equal_to(sorted(not_selected.items())), label="Check.not_selected")
