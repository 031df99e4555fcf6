"""The runbook's training command on a fresh machine: ``--log_file`` and ``--checkpoint.folder``
name folders that do not exist yet. Every rank creates them before anything is written, so
neither does rank 0 die opening the log nor rank 1 hang in an all-gather waiting for it."""
import pytest

for _mod in ("torch", "tokenizers", "transformers"):
    pytest.importorskip(_mod)

from trainer_helpers import read_log, torchrun


def test_two_ranks_start_in_folders_that_do_not_exist(tmp_path, tiny_args):
    run = tmp_path / "fresh" / "run1"
    assert not run.parent.exists()
    torchrun(2, tiny_args + ["--train.steps", "2", "--checkpoint.interval", "2",
                             "--checkpoint.folder", str(run / "ckpt"), "--log_file", str(run / "logs" / "train.jsonl"),
                             "--checkpoint.export_dir", str(run / "hf")], timeout=180)
    losses, recs = read_log(run / "logs" / "train.jsonl")
    assert sorted(losses) == [1, 2] and recs[-1]["event"] == "end"
    assert (run / "ckpt" / "step-2").is_dir() and (run / "ckpt" / "job_config.json").is_file()
    assert (run / "hf" / "config.json").is_file()
