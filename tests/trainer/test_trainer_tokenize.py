"""Tokenisation of pipeline Parquet into indexed shards."""
import pytest

# The `trainer` extra (torch, tokenizers, transformers) is needed; say so
# in the summary rather than failing collection.
for _mod in ("torch", "tokenizers", "transformers"):
    pytest.importorskip(_mod)

import json

import numpy as np
import pyarrow.parquet as pq
from tokenizers import Tokenizer

from trainer_helpers import DATA, TOKENIZER
from trainer.data import TokenStream
from trainer.indexed_dataset import IndexedDataset
from trainer.tokenize import run, tokenize_file
from trainer.train_tokenizer import main as train_tokenizer_main


def test_shards_match_direct_encoding_with_eos(tokens_dir):
    manifest = json.loads((tokens_dir / "manifest.json").read_text())
    tok = Tokenizer.from_file(str(TOKENIZER))
    eos = tok.token_to_id("<|end_of_text|>")
    assert manifest["eos_id"] == eos and manifest["dtype"] == "uint16"
    assert len(manifest["shards"]) == 2  # one per input file
    total = 0
    for shard in manifest["shards"]:
        texts = pq.read_table(shard["source"], columns=["text"]).column(0).to_pylist()
        ds = IndexedDataset(str(tokens_dir / shard["prefix"]))
        assert len(ds) == shard["documents"] == len(texts)
        for i in (0, 7, len(texts) - 1):
            want = tok.encode(texts[i], add_special_tokens=False).ids + [eos]
            np.testing.assert_array_equal(ds[i], want)
        assert ds.num_tokens == shard["tokens"]
        assert int((np.asarray(ds.tokens) == eos).sum()) == len(texts)
        total += shard["tokens"]
    assert manifest["tokens"] == total > 100_000
    assert TokenStream(str(tokens_dir)).num_tokens == total


def test_streaming_batches_and_workers_do_not_change_output(tmp_path, tokens_dir):
    # Tiny record batches (many per row group) in one process must give the
    # same bytes as the pooled run with the default batch size.
    src = sorted(DATA.glob("*.parquet"))[1]
    tokenize_file(str(src), str(tmp_path / "one"), str(TOKENIZER), batch_rows=7)
    ref = tokens_dir / "00001-corpus-00001"
    assert (tmp_path / "one.bin").read_bytes() == ref.with_suffix(".bin").read_bytes()
    assert (tmp_path / "one.idx").read_bytes() == ref.with_suffix(".idx").read_bytes()


def test_fsspec_url_input_and_serial_mode(tmp_path):
    url = "file://" + str(sorted(DATA.glob("*.parquet"))[0])
    m = run([url], str(TOKENIZER), str(tmp_path / "out"), workers=1)
    assert m["workers"] == 1 and len(m["shards"]) == 1 and m["tokens"] > 0
    assert not list((tmp_path / "out").glob("*.tmp.*"))


def test_train_tokenizer_cli(tmp_path):
    out = tmp_path / "tok.json"
    assert train_tokenizer_main(["--input", str(DATA), "--vocab-size", "600", "--output", str(out),
                                 "--limit-bytes", "200000"]) == 0
    tok = Tokenizer.from_file(str(out))
    assert tok.get_vocab_size() == 600
    assert tok.token_to_id("<|end_of_text|>") == 0
    text = "吾輩は猫である。名前はまだ無い。"
    ids = tok.encode(text).ids
    assert tok.decode(ids) == text  # byte-level: lossless, no unknowns
    assert len(ids) < len(text.encode("utf-8"))  # merges were learnt


def _run_dir(tmp_path):
    """A pipeline output directory: documents/, rejects/ (no text column), errors/, _stats/."""
    import shutil

    import pyarrow as pa

    out = tmp_path / "run"
    for sub in ("documents", "rejects", "errors", "_stats"):
        (out / sub).mkdir(parents=True)
    src = sorted(DATA.glob("*.parquet"))[0]
    shutil.copy(src, out / "documents" / "part-00000-of-00001.parquet")
    pq.write_table(pa.table({"id": ["a"], "stage": ["quality"], "reason": ["too_short.v1"]}),
                   out / "rejects" / "read-part-00000-of-00001.parquet")
    pq.write_table(pa.table({"id": ["b"], "kind": ["truncated"], "message": ["f@1"]}),
                   out / "errors" / "part-00000-of-00001.parquet")
    (out / "_stats" / "dedup_clusters.jsonl").write_text("{}\n")
    return out, src


def test_run_directory_means_its_documents(tmp_path):
    """``--input OUT_DIR`` of a pipeline run reads documents/ only, not rejects/ or errors/."""
    from trainer.tokenize import expand_inputs

    out, src = _run_dir(tmp_path)
    assert expand_inputs([str(out)]) == [str(out / "documents" / "part-00000-of-00001.parquet")]
    m = run([str(out)], str(TOKENIZER), str(tmp_path / "tokens"), workers=1)
    assert len(m["shards"]) == 1
    assert m["documents"] == pq.read_metadata(src).num_rows


def test_failed_shard_leaves_no_temp_files(tmp_path, capsys):
    """A file without the text column fails with a message naming it, and its partial shard is
    removed (the rerun starts that shard from scratch)."""
    from trainer.tokenize import main

    out, _ = _run_dir(tmp_path)
    bad = out / "rejects" / "read-part-00000-of-00001.parquet"
    with pytest.raises(ValueError, match="no column 'text'"):
        tokenize_file(str(bad), str(tmp_path / "bad"), str(TOKENIZER))
    assert not list(tmp_path.glob("bad*"))
    rc = main(["--input", str(out / "rejects"), "--tokenizer", str(TOKENIZER), "--output",
               str(tmp_path / "tokens"), "--workers", "1"])
    assert rc == 1 and "no column 'text'" in capsys.readouterr().err
    assert not list((tmp_path / "tokens").glob("*.tmp.*"))
