"""A whole run with ``--evals_index`` (recipe v1, one sample WARC file, the invented fixture
index): the stage runs, the report carries its row, conservation holds."""
from pipeline.cli import main
from pipeline.evals_index import build_file
from tests.conftest import DATA, SAMPLE_WARCS, beam_args


def test_run_with_evals_index(tmp_path, capsys):
    import json

    index = tmp_path / "evals_index.npz"
    build_file(str(DATA / "evals"), str(index))
    out = tmp_path / "out"
    rc = main(["run", "--input", SAMPLE_WARCS[0], "--output", str(out), "--evals_index", str(index),
               "--no_progress", *beam_args()])
    assert rc == 0
    report = json.loads((out / "report.json").read_text())
    assert report["invariant_ok"], report["invariant_problems"]
    row = report["stage_stats"]["decontaminate_matches"][0]
    assert row["status"] == "applied" and row["index"] == str(index) and row["total"] == 0
    assert report["config"]["decontaminate"]["index"] == str(index)
    assert [f["stage"] for f in report["funnel"]][-2:] == ["normalize", "decontaminate"]


def test_evals_index_needs_the_stage(tmp_path, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text('{"stages": ["prefilter", "decode", "extract"]}')
    rc = main(["run", "--input", SAMPLE_WARCS[0], "--output", str(tmp_path / "o"), "--config", str(cfg),
               "--evals_index", "x.npz", *beam_args()])
    assert rc == 2 and "no decontaminate stage" in capsys.readouterr().err
