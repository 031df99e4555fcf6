"""Broken shards and foreign checkpoints are refused before training or unpickling, with the
file named (a table of broken inputs → expected error)."""
from __future__ import annotations

import json
import os
import shutil
import struct

import numpy as np
import pytest

from trainer.integrity import (CHECKPOINT_MANIFEST, CheckpointError, ShardError, check_shards,
                               verify_checkpoint, write_checkpoint_manifest)


def _copy(tokens_dir, tmp_path):
    d = tmp_path / "tokens"
    shutil.copytree(tokens_dir, d)
    manifest = json.loads((d / "manifest.json").read_text())
    return d, manifest, d / manifest["shards"][0]["prefix"]


def _half_bin(d, m, prefix):
    data = (prefix.with_suffix(".bin")).read_bytes()
    prefix.with_suffix(".bin").write_bytes(data[: len(data) // 2])


def _empty_bin(d, m, prefix):
    prefix.with_suffix(".bin").write_bytes(b"")


def _odd_bin(d, m, prefix):
    with open(prefix.with_suffix(".bin"), "ab") as f:
        f.write(b"\x00")


def _dtype_99(d, m, prefix):
    b = bytearray(prefix.with_suffix(".idx").read_bytes())
    b[17] = 99
    prefix.with_suffix(".idx").write_bytes(bytes(b))


def _short_idx(d, m, prefix):
    b = prefix.with_suffix(".idx").read_bytes()
    prefix.with_suffix(".idx").write_bytes(b[:-10])


def _header_only(d, m, prefix):
    prefix.with_suffix(".idx").write_bytes(prefix.with_suffix(".idx").read_bytes()[:20])


def _out_of_vocab(d, m, prefix):
    arr = np.fromfile(prefix.with_suffix(".bin"), dtype=np.dtype(m["dtype"]))
    arr[3] = m["vocab_size"] + 5
    arr.tofile(prefix.with_suffix(".bin"))


def _manifest_tokens(d, m, prefix):
    m["tokens"] += 1000
    (d / "manifest.json").write_text(json.dumps(m))


# (what is broken, how, words of the error)
BROKEN_SHARDS = [
    ("bin cut in half", _half_bin, ".bin: "),
    ("bin emptied", _empty_bin, ".bin: 0 bytes"),
    ("bin one byte longer", _odd_bin, "truncated or replaced"),
    ("dtype code 99", _dtype_99, "unknown dtype code 99"),
    ("idx cut short", _short_idx, ".idx: "),
    ("idx header only", _header_only, "shorter than the 34-byte header"),
    ("token id past the vocabulary", _out_of_vocab, "outside the vocabulary"),
    ("manifest token count", _manifest_tokens, "manifest.json: says"),
]


@pytest.mark.parametrize("case,breaks,words", BROKEN_SHARDS, ids=[c[0] for c in BROKEN_SHARDS])
def test_broken_shards_are_refused_by_name(tokens_dir, tmp_path, case, breaks, words):
    d, manifest, prefix = _copy(tokens_dir, tmp_path)
    check_shards(str(d), manifest)  # intact: passes
    breaks(d, manifest, prefix)
    with pytest.raises(ShardError, match=words.replace(".", r"\.")) as e:
        check_shards(str(d), manifest)
    assert str(d) in str(e.value)


def test_a_model_vocabulary_smaller_than_the_tokenizer_is_refused(tokens_dir):
    manifest = json.loads((tokens_dir / "manifest.json").read_text())
    with pytest.raises(ShardError, match="tokenizer vocabulary"):
        check_shards(str(tokens_dir), manifest, vocab_size=manifest["vocab_size"] - 1)


ARCH = {"hidden_size": 64, "num_hidden_layers": 2, "vocab_size": 512}


def _saved(tmp_path):
    step = tmp_path / "step-10"
    step.mkdir()
    (step / ".metadata").write_bytes(b"pickled metadata")
    (step / "__0_0.distcp").write_bytes(b"tensors")
    write_checkpoint_manifest(str(step), ARCH)
    return step


# (what is done to a saved checkpoint, words of the error)
BROKEN_CHECKPOINTS = [
    ("crafted .metadata", lambda s: (s / ".metadata").write_bytes(b"cos\nsystem\n(S'echo pwned'\ntR."), "changed since"),
    ("extra file", lambda s: (s / "__1_0.distcp").write_bytes(b"x"), "files differ"),
    ("file removed", lambda s: (s / "__0_0.distcp").unlink(), "files differ"),
    ("no manifest", lambda s: (s / CHECKPOINT_MANIFEST).unlink(), "not written by this trainer"),
    ("manifest garbage", lambda s: (s / CHECKPOINT_MANIFEST).write_text("{"), "unreadable"),
]


@pytest.mark.parametrize("case,breaks,words", BROKEN_CHECKPOINTS, ids=[c[0] for c in BROKEN_CHECKPOINTS])
def test_foreign_or_changed_checkpoints_are_refused(tmp_path, case, breaks, words):
    step = _saved(tmp_path)
    verify_checkpoint(str(step), ARCH)  # as saved: passes
    breaks(step)
    with pytest.raises(CheckpointError, match=words):
        verify_checkpoint(str(step), ARCH)


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path):
    step = _saved(tmp_path)
    with pytest.raises(CheckpointError, match="num_hidden_layers 2 in the checkpoint vs 1 configured"):
        verify_checkpoint(str(step), {**ARCH, "num_hidden_layers": 1})
