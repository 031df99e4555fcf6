"""End to end: ``swallow-corpus index`` then ``run --index`` (recipe v1); the report invariant holds."""
import json

from pipeline.cli import main as cli_main, run
from tests.conftest import DATA, SAMPLE_WARCS, beam_args


def test_index_then_run_v1(tmp_path):
    index = tmp_path / "index.parquet"
    assert cli_main(["index", "--input", str(DATA / "warc" / "*.warc.gz"), "--output", str(index),
                     "--detect_languages"]) == 0
    out = tmp_path / "out"
    report = run(["--index", str(index), "--output", str(out), "--no_progress", *beam_args()])
    assert report["invariant_ok"], report["invariant_problems"]
    ix = report["index"]
    assert ix["rows"] == 569 and ix["selected"] == report["records_read"]
    assert ix["rows"] == ix["selected"] + sum(ix["not_selected"].values())
    assert ix["not_selected"].get("mime_v1") == 18            # the RSS/Atom feeds are never read
    read = report["funnel"][0]
    assert (read["stage"], read["index_rows"], read["index_selected"]) == ("read", 569, ix["selected"])
    assert 0 < report["kept"] <= report["records_read"] < 569
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk["index"] == ix and "index rows selected" in (out / "report.html").read_text()


def test_index_with_unreadable_range_is_a_counted_error(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.index_build import index_rows, schema

    rows = list(index_rows(SAMPLE_WARCS[0]))[:5]
    rows[1] = {**rows[1], "warc_record_offset": rows[1]["warc_record_offset"] + 7}   # wrong offset
    index = tmp_path / "index.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema()), index)
    report = run(["--index", str(index), "--output", str(tmp_path / "out"), "--no_progress", *beam_args()])
    assert report["invariant_ok"], report["invariant_problems"]
    assert report["errors"].get("index_range_error") == 1
    assert report["records_read"] == report["index"]["selected"]
