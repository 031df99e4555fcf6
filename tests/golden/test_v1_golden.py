"""Golden end-to-end: recipe v1 on the real sample crawl (569 real pages)."""
import json
import pathlib

import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from tests.golden.run_golden import expected_path, golden_run, kept_ids


@pytest.fixture(scope="module")
def v1_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("v1")
    summary, report = golden_run("v1", str(out))
    return out, summary, report


def test_counts_and_kept_ids_match_golden(v1_run):
    _, summary, _ = v1_run
    expected = json.loads(expected_path("v1").read_text())
    assert summary["records_read"] == expected["records_read"] == 569
    assert summary["dropped"] == expected["dropped"]
    assert summary["errors"] == expected["errors"]
    assert [list(x) for x in summary["funnel"]] == [list(x) for x in expected["funnel"]]
    assert summary["kept_ids"] == expected["kept_ids"]


def test_conservation_invariant(v1_run):
    out, summary, report = v1_run
    assert report["invariant_ok"], report["invariant_problems"]
    assert report["records_read"] == report["kept"] + sum(report["dropped"].values()) + sum(report["errors"].values())
    assert report["written_rows"]["documents"] == report["kept"]
    assert report["written_rows"]["rejects"] == sum(report["dropped"].values())
    assert report["non_response_records"] == 579
    # progress counters (per PCollection, no Flatten of the HTML-bearing records) see every record
    assert report["progress"]["records_read"] == report["progress"]["records_done"] == 569
    assert report["progress"]["files_done"] == report["progress"]["files_total"] == 10
    # every stage's Metrics counters agree with the outcome counts
    assert report["metrics"]["read.kept"] + sum(v for k, v in report["metrics"].items()
                                                 if k.startswith("read.dropped.")) == 569


def test_parquet_schema_and_report_files(v1_run):
    out, _, report = v1_run
    files = sorted((out / "documents").glob("*.parquet"))
    table = pq.read_table(files[0])
    for col in ["id", "url", "host", "crawl_date", "warc_file", "title", "text", "lang_score",
                "q_dup_line_frac", "q_hiragana_frac", "ng_fraction", "footer_lines_cut"]:
        assert col in table.column_names
    rows = table.to_pylist()
    assert all(r["text"] and r["lang_score"] >= 0.5 for r in rows)
    assert (out / "report.html").read_text().count("<tr>") == len(report["funnel"]) + 1
    rejects = pq.read_table(sorted((out / "rejects").glob("*.parquet"))[0])
    assert {"stage", "reason"} <= set(rejects.column_names) and "text" not in rejects.column_names


def test_same_output_with_two_worker_processes(v1_run, tmp_path):
    _, summary1, _ = v1_run
    summary2, _ = golden_run("v1", str(tmp_path), workers=2, mode="multi_processing")
    assert summary2["kept_ids"] == summary1["kept_ids"]
    assert summary2["dropped"] == summary1["dropped"]


def test_missing_input_fails_fast(tmp_path, capsys):
    rc = main(["run", "--input", str(tmp_path / "none-*.warc.gz"), "--output", str(tmp_path / "o"),
               "--runner=FnApiRunner"])
    assert rc == 2
    assert "match no file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_rejects_full_stores_text_and_none_stores_nothing(tmp_path):
    from tests.conftest import SAMPLE_WARCS, beam_args
    from pipeline.cli import run
    full = run(["--input", SAMPLE_WARCS[0], "--output", str(tmp_path / "f"), "--rejects", "full", *beam_args()])
    t = pq.read_table(sorted((tmp_path / "f" / "rejects").glob("*.parquet"))[0])
    assert "text" in t.column_names and full["invariant_ok"]
    none = run(["--input", SAMPLE_WARCS[0], "--output", str(tmp_path / "n"), "--rejects", "none", *beam_args()])
    assert not (tmp_path / "n" / "rejects").exists() and none["invariant_ok"]
    assert kept_ids(str(tmp_path / "f")) == kept_ids(str(tmp_path / "n"))


def test_report_carries_stage_statistics(v1_run):
    out, summary, report = v1_run
    stats = report["stage_stats"]
    sizes = stats["dedup_cluster_sizes"]
    dedup = next(f for f in report["funnel"] if f["stage"] == "dedup")
    # every document that reached dedup is in exactly one cluster
    assert sum(s["cluster_size"] * s["clusters"] for s in sizes) == dedup["pages_after"] + dedup["dropped"]
    blocked = stats.get("hosts_blocked", [])
    hosts = next(f for f in report["funnel"] if f["stage"] == "hosts")
    assert sum(b["pages"] for b in blocked) >= hosts["dropped"]
    assert "Stage statistics" in (out / "report.html").read_text()
    # no --evals_index: decontamination was skipped, and the report says so; PII counts per kind
    assert stats["decontaminate_matches"][0]["status"] == "skipped"
    assert set(stats["pii_counts"][0]["enabled"]) == {"pii_email_v1", "pii_ip_v1"}


def test_output_directory_is_a_loadable_dataset(v1_run):
    """README.md names one config per table, so ``datasets.load_dataset(OUT_DIR)`` loads the
    documents (and ``"rejects"``/``"errors"`` the others) instead of mixing every file below;
    ``crawl_date`` is a UTC timestamp and ``warc_file`` an absolute location."""
    import glob

    import pyarrow as pa
    import yaml

    out, _, report = v1_run
    card = (out / "README.md").read_text()
    meta = yaml.safe_load(card.split("---\n")[1])
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert set(configs) == {"documents", "rejects", "errors"}
    assert configs["documents"].get("default") is True
    for name, c in configs.items():
        files = sorted(glob.glob(str(out / c["data_files"][0]["path"])))
        assert files, name
        schemas = {str(pq.read_schema(f)) for f in files}
        assert len(schemas) == 1, f"{name}: files disagree on the schema"
    for table in ("documents", "rejects"):
        schema = pq.read_schema(sorted((out / table).glob("*.parquet"))[0])
        assert schema.field("crawl_date").type == pa.timestamp("us", tz="UTC")
    docs = pq.read_table(sorted((out / "documents").glob("*.parquet")), columns=["crawl_date", "warc_file"])
    assert docs.column("crawl_date").null_count == 0
    warcs = set(docs.column("warc_file").to_pylist())
    assert all(w.startswith("/") and pathlib.Path(w).is_file() for w in warcs), warcs
    import datasets  # the compat extra (scripts/test.sh installs it)

    assert len(datasets.load_dataset(str(out))["train"]) == report["kept"]
    assert len(datasets.load_dataset(str(out), "rejects")["train"]) == sum(report["dropped"].values())
    assert len(datasets.load_dataset(str(out), "errors")["train"]) == sum(report["errors"].values())


def test_output_opens_in_duckdb_and_polars(v1_run):
    """The Parquet as the SQL and dataframe readers users point at it see it: every table's row
    count is the report's, ``crawl_date`` is a UTC timestamp, ids are unique."""
    import duckdb
    import polars as pl

    out, _, report = v1_run
    counts = {"documents": report["kept"], "rejects": sum(report["dropped"].values()),
              "errors": sum(report["errors"].values())}
    con = duckdb.connect()
    for table, n in counts.items():
        glob = str(out / table / "*.parquet")
        assert con.execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchone()[0] == n, table
        assert pl.scan_parquet(glob).select(pl.len()).collect().item() == n, table
    docs = str(out / "documents" / "*.parquet")
    assert con.execute(f"SELECT count(DISTINCT id), min(crawl_date) IS NOT NULL FROM read_parquet('{docs}')"
                       ).fetchone() == (report["kept"], True)
    desc = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT crawl_date FROM read_parquet('{docs}')").fetchall()}
    assert desc["crawl_date"] == "TIMESTAMP WITH TIME ZONE"
    frame = pl.read_parquet(docs, columns=["id", "crawl_date"])
    assert frame.schema["crawl_date"] == pl.Datetime("us", "UTC") and frame["id"].n_unique() == report["kept"]
