"""``run`` refuses, before any work and in one line with exit status 2, what would silently destroy
its output: config values out of range or of the wrong type, an existing file or another run's
directory as --output, stray positional arguments (a table of broken inputs → expected error)."""
from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from pipeline import cli
from tests.conftest import SAMPLE_WARCS, beam_args
from tests.warcgen import gz_members, response

# (config overrides, words of the error): each field named
BAD_CONFIGS = [
    ({"dedup": {"rows": 0}}, "dedup.rows: must be an integer >= 1, got 0"),
    ({"dedup": {"bands": 0}}, "dedup.bands: must be an integer >= 1"),
    ({"dedup": {"ngram": 0}}, "dedup.ngram: must be an integer >= 1"),
    ({"dedup": {"rows": True}}, "dedup.rows: must be an integer"),
    ({"dedup": {"rows": 2.5}}, "dedup.rows: must be an integer"),
    ({"quality": {"japanese": {"min_chars": "400"}}}, "quality.japanese.min_chars: must be an integer, got '400'"),
    ({"quality": {"japanese": {"min_chars": -1}}}, "quality.japanese.min_chars: must be >= 0"),
    ({"read": {"max_record_bytes": -1}}, "read.max_record_bytes: must be an integer >= 1"),
    ({"read": {"max_record_bytes": 0}}, "read.max_record_bytes: must be an integer >= 1"),
    ({"extract": {"timeout_s": -1}}, "extract.timeout_s: must be >= 0, got -1"),
    ({"langid": {"min_score": 1.5}}, "langid.min_score: must be between 0 and 1"),
    ({"harmful": {"max_ng_fraction": "0.05"}}, "harmful.max_ng_fraction: must be a number"),
    ({"prefilter": {"mode": "all"}}, "prefilter.mode: must be one of swallow, kana, both, got 'all'"),
    ({"dedup": 5}, "dedup: must be an object of fields"),
    ({"dedup": {"rowz": 5}}, "has no field 'rowz'"),
    ({"quality": {"japanese": {"min_mean_sentence_len": 100}}}, "min_mean_sentence_len (100) > "),
    ({"quality": {"repetition": {"top_ngram": [[0, 0.2]]}}}, "quality.repetition.top_ngram: items must be"),
    ([1, 2], "config file: must be a JSON object"),
]


def _main(capsys, *args):
    rc = cli.main(["run", *args])
    err = capsys.readouterr().err.strip()
    return rc, err


@pytest.mark.parametrize("changes,words", BAD_CONFIGS, ids=[json.dumps(c)[:40] for c, _ in BAD_CONFIGS])
def test_bad_config_is_one_line_naming_the_field(tmp_path, capsys, changes, words):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(changes))
    rc, err = _main(capsys, "--input", SAMPLE_WARCS[0], "--output", str(tmp_path / "out"), "--config", str(cfg),
                    *beam_args())
    assert rc == 2 and words in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "out").exists()  # refused before any work


def _bad_json(tmp_path):
    p = tmp_path / "c.json"
    p.write_text('{"dedup": {"rows": ')
    return ["--config", str(p)]


def _a_file(tmp_path):
    p = tmp_path / "out"
    p.write_text("not a directory")
    return ["--output", str(p)]


def _earlier_run(tmp_path):
    (tmp_path / "out" / "rejects").mkdir(parents=True)
    (tmp_path / "out" / "report.json").write_text("{}")
    return ["--output", str(tmp_path / "out")]


# (argv builder, words): command-line mistakes
BAD_ARGS = [
    (_bad_json, "not valid JSON"),
    (lambda t: ["--extract_timeout", "-1"], "extract.timeout_s: must be >= 0, got -1.0"),
    (_a_file, "is an existing file"),
    (_earlier_run, "holds another run's files (rejects, report.json); give --overwrite"),
    (lambda t: [SAMPLE_WARCS[1]], "unexpected argument"),
]


@pytest.mark.parametrize("build,words", BAD_ARGS, ids=[w for _, w in BAD_ARGS])
def test_command_line_mistakes_are_one_line(tmp_path, capsys, build, words):
    argv = ["--input", SAMPLE_WARCS[0], "--output", str(tmp_path / "out"), *beam_args()]
    extra = build(tmp_path)
    if extra[:1] == ["--output"]:
        argv = argv[:2] + extra + argv[4:]
    else:
        argv += extra
    rc, err = _main(capsys, *argv)
    assert rc == 2 and words in err and len(err.splitlines()) == 1, err


def _pages(tmp_path, name, n):
    p = tmp_path / "in" / name
    p.parent.mkdir(exist_ok=True)
    p.write_bytes(gz_members([response(f"http://{name}.example/{i}", b"<html><body>English</body></html>")
                              for i in range(n)]))
    return p


def test_overwrite_clears_the_earlier_run_and_a_file_is_read_once(tmp_path):
    first, second = _pages(tmp_path, "a", 3), _pages(tmp_path, "b", 2)
    link = tmp_path / "in" / "link.warc.gz"
    link.symlink_to(first)
    out = str(tmp_path / "out")
    args = ["--output", out, "--no_progress", *beam_args()]
    r1 = cli.run(["--input", str(first), "--input", str(link), "--input", str(first), *args])
    assert r1["records_read"] == 3 and r1["invariant_ok"]  # one file, named three ways: read once
    r2 = cli.run(["--input", str(second), "--rejects", "none", "--overwrite", *args])
    assert r2["records_read"] == 2 and r2["invariant_ok"]
    assert not (tmp_path / "out" / "rejects").exists()  # the first run's rejects are gone
    errors = [f for f in (tmp_path / "out" / "errors").glob("*.parquet") if pq.read_table(f).num_rows]
    assert errors == []
