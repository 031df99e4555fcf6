"""Every command line helps and fails clearly: ``--help`` lists the options with their defaults,
a wrong flag or value is one line on stderr and exit status 2 (argparse's convention), never a
traceback."""
from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from pipeline.cli import main as pipeline_main

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _help(fn, argv, capsys) -> str:
    """Output of a ``--help``: argparse exits 0 after printing, our own helps return 0."""
    try:
        rc = fn(argv)
    except SystemExit as e:
        rc = e.code
    assert rc in (0, None)
    return " ".join(capsys.readouterr().out.split())  # argparse wraps to the terminal's width


def test_run_help_lists_our_options_with_defaults(capsys):
    for flag in ("--help", "-h"):
        out = _help(pipeline_main, ["run", flag], capsys)
        for option in ("--input", "--output", "--recipe", "--rejects", "--prefilter", "--extractor",
                       "--subset_labels", "--index", "--index_languages", "--evals_index", "--no_progress"):
            assert option in out, option
        assert "(default: v1)" in out and "(default: ids)" in out
        assert "--runner" in out  # how Beam options are passed


def test_run_help_beam_lists_beam_options(capsys):
    out = _help(pipeline_main, ["run", "--help_beam"], capsys)
    assert "--temp_location" in out and "--direct_num_workers" in out and "--dry_run" in out


def test_refresh_and_index_help(capsys):
    out = _help(pipeline_main, ["refresh", "--help"], capsys)
    assert "--batch_files" in out and "(default: 100)" in out
    assert "--recipe" in out and "--rejects" in out  # the run options each batch takes
    out = _help(pipeline_main, ["index", "--help"], capsys)
    assert "--detect_languages" in out and "--input" in out
    out = _help(pipeline_main, ["evals-index", "--help"], capsys)
    assert "--evals" in out and "--output" in out and "(default: 10)" in out


@pytest.mark.parametrize("argv, says", [
    (["run", "--input", "x", "--outptu", "y"], "did you mean --output"),
    (["run", "--input", "x", "--output", "y", "--rejects", "foo"], "invalid choice"),
    (["run", "--input", "x"], "--output are required"),
    (["run", "--input", "x", "--output", "y", "--recipe", "v9"], "unknown recipe"),
    (["run", "--input", "x", "--output", "y", "stray"], "unexpected argument"),
    (["refresh", "--input", "x", "--output", "y", "--batchfiles", "3"], "did you mean --batch_files"),
    (["refresh", "--input", "x"], "required"),
    (["index", "--input", "x"], "required"),
    (["evals-index", "--evals", "x"], "required"),
    (["evals-index", "--evals", "/nonexistent", "--output", "y"], "not a directory"),
    (["frobnicate"], "unknown command"),
])
def test_wrong_flags_are_one_line_and_rc_2(argv, says, capsys):
    try:
        rc = pipeline_main(argv)
    except SystemExit as e:
        rc = e.code
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert says in err and len(err.splitlines()) == 1, err


def test_train_help_lists_dotted_keys_of_the_chosen_recipe(capsys):
    from trainer.train import main as train_main

    for flag in ("--help", "-h"):
        out = _help(train_main, [flag], capsys)
        assert "--train.steps" in out and "--checkpoint.folder" in out and "--log_file" in out
        assert "(default: 30)" in out  # tiny's steps
    out = _help(train_main, ["--config", "swallow_llama3_8b", "--help"], capsys)
    assert "(default: 11921)" in out and "(default: 8192)" in out


@pytest.mark.parametrize("argv, says", [
    (["--train.stepz", "3"], "did you mean --train.steps"),
    (["--train.steps", "x"], "not a valid int"),
    (["--config"], "missing value"),
    (["--config", "nope"], "neither a recipe"),
    (["stray"], "unexpected argument"),
])
def test_train_wrong_flags_are_one_line_and_rc_2(argv, says, capsys):
    from trainer.train import main as train_main

    assert train_main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1, err


@pytest.mark.parametrize("module", ["trainer.tokenize", "trainer.train_tokenizer", "trainer.export",
                                    "trainer.dryrun"])
def test_trainer_tools_help_and_wrong_flag(module, capsys):
    import importlib

    main = importlib.import_module(module).main
    out = _help(main, ["--help"], capsys)
    assert "--" in out and "usage: python -m " + module in out
    with pytest.raises(SystemExit) as e:
        main(["--no-such-flag", "1"])
    assert e.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_tokenize_help_shows_defaults(capsys):
    from trainer.tokenize import main

    out = _help(main, ["--help"], capsys)
    assert "(default: text)" in out and "(default: 1024)" in out


def test_no_traceback_from_a_real_process():
    """The console entry point, as a user runs it: one line, rc 2."""
    proc = subprocess.run([sys.executable, "-m", "pipeline", "run", "--input", "x", "--outptu", "y"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("python -m pipeline run: error: unknown option --outptu")
