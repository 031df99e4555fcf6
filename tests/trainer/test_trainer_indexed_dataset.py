"""The .bin/.idx files follow the Megatron-LM indexed-dataset layout."""
import pytest

# The `trainer` extra (torch, tokenizers, transformers) is needed; say so
# in the summary rather than failing collection.
for _mod in ("torch", "tokenizers", "transformers"):
    pytest.importorskip(_mod)

import struct

import numpy as np

from trainer.indexed_dataset import IndexedDataset, IndexedDatasetWriter


def test_exact_byte_layout(tmp_path):
    prefix = str(tmp_path / "x")
    w = IndexedDatasetWriter(prefix, np.uint16)
    docs = [[5, 6, 7], [65535], [1, 2]]
    for d in docs:
        w.add_document(d)
    w.finalize()

    assert (tmp_path / "x.bin").read_bytes() == struct.pack("<6H", 5, 6, 7, 65535, 1, 2)
    expected = (
        b"MMIDIDX\x00\x00"
        + struct.pack("<Q", 1)  # version
        + struct.pack("<B", 8)  # dtype code of uint16
        + struct.pack("<Q", 3)  # sequences
        + struct.pack("<Q", 4)  # document index entries (documents + 1)
        + struct.pack("<3i", 3, 1, 2)  # lengths
        + struct.pack("<3q", 0, 6, 8)  # byte pointers
        + struct.pack("<4q", 0, 1, 2, 3)  # document index
    )
    assert (tmp_path / "x.idx").read_bytes() == expected


def test_int32_code_and_roundtrip(tmp_path):
    prefix = str(tmp_path / "y")
    w = IndexedDatasetWriter(prefix, np.int32)
    rng = np.random.default_rng(0)
    docs = [rng.integers(0, 128_000, size=n) for n in (1, 17, 300, 2)]
    for d in docs:
        w.add_document(d)
    w.finalize()
    assert (tmp_path / "y.idx").read_bytes()[17] == 4  # int32
    ds = IndexedDataset(prefix)
    assert len(ds) == 4 and ds.num_tokens == 320
    for i, d in enumerate(docs):
        np.testing.assert_array_equal(ds[i], d)
    np.testing.assert_array_equal(ds.document_indices, [0, 1, 2, 3, 4])


def test_bad_magic_is_refused(tmp_path):
    (tmp_path / "z.idx").write_bytes(b"NOTANIDX" + b"\x00" * 40)
    (tmp_path / "z.bin").write_bytes(b"")
    with pytest.raises(ValueError, match="magic"):
        IndexedDataset(str(tmp_path / "z"))


def test_megatron_core_reads_our_shards(tokens_dir):
    """Cross-check with the reference reader (megatron-core, the compat extra that
    scripts/test.sh installs)."""
    import megatron.core.datasets.indexed_dataset as mc
    import json

    manifest = json.loads((tokens_dir / "manifest.json").read_text())
    for shard in manifest["shards"]:
        prefix = str(tokens_dir / shard["prefix"])
        theirs = mc.IndexedDataset(prefix)
        ours = IndexedDataset(prefix)
        assert len(theirs) == len(ours) == shard["documents"]
        for i in (0, len(ours) // 2, len(ours) - 1):
            np.testing.assert_array_equal(theirs[i], ours[i])
