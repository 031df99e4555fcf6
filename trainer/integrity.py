"""What the trainer reads is checked before it trains on it or unpickles it.

Token shards (``manifest.json`` + Megatron ``.bin``/``.idx``): each ``.idx`` parses (magic,
version, a known dtype, a size that matches its counts), each ``.bin`` has exactly the bytes the
index describes, the token and document counts and the dtype agree with the manifest, and every
token id is below the vocabulary size (an id past the embedding is an ``IndexError`` mid-run, or
silent garbage on GPU). A shard cut in half or to zero is refused with the file named.

Checkpoints are a trust boundary: ``torch.distributed.checkpoint`` unpickles ``.metadata`` (and
parts of the state) on load, so a crafted file in a checkpoint directory runs code. At save time
rank 0 writes ``swallow_checkpoint.json``: the SHA-256 of every file of the step directory and the
model's architecture; on load, before any byte is unpickled, the directory must hold exactly those
files with those hashes, and the architecture must be the one being trained (a 2-layer checkpoint
never loads into a 1-layer model). The JSON file itself is read with ``json`` only. This makes a
directory the trainer did not write (or one changed since) fail to load; it is not a signature:
whoever can write the directory can write a matching manifest too, so keep checkpoint storage
writable by the training job only (``runbooks/trainer.md``).
"""
from __future__ import annotations

import hashlib
import json
import os
import struct

import numpy as np

from trainer.indexed_dataset import CODE_DTYPES, MAGIC

CHECKPOINT_MANIFEST = "swallow_checkpoint.json"
#: LlamaConfig fields that fix the shapes of the weights
ARCH_KEYS = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
             "num_key_value_heads", "vocab_size", "head_dim", "tie_word_embeddings")
_HEADER = 9 + 8 + 1 + 8 + 8


class ShardError(ValueError):
    """A token shard that does not match its index or the manifest (the file is named)."""


class CheckpointError(ValueError):
    """A checkpoint directory the trainer did not write, changed since, or of another model."""


def read_index_header(idx_path: str) -> tuple[np.dtype, int, int]:
    """(dtype, sequences, documents) of a Megatron ``.idx``, checked against its size."""
    try:
        size = os.path.getsize(idx_path)
        with open(idx_path, "rb") as fh:
            head = fh.read(_HEADER)
    except OSError as e:
        raise ShardError(f"{idx_path}: cannot be read ({e.strerror})") from None
    if len(head) < _HEADER:
        raise ShardError(f"{idx_path}: {size} bytes, shorter than the {_HEADER}-byte header (truncated)")
    if head[:9] != MAGIC:
        raise ShardError(f"{idx_path}: not a Megatron index (magic {head[:9]!r})")
    (version,) = struct.unpack("<Q", head[9:17])
    code = head[17]
    n_seq, n_doc = struct.unpack("<QQ", head[18:34])
    if version != 1:
        raise ShardError(f"{idx_path}: unsupported index version {version}")
    if code not in CODE_DTYPES:
        raise ShardError(f"{idx_path}: unknown dtype code {code} (known: {sorted(CODE_DTYPES)})")
    expect = _HEADER + 12 * n_seq + 8 * n_doc
    if size != expect:
        raise ShardError(f"{idx_path}: {size} bytes, but {n_seq} sequences and {n_doc} document entries "
                         f"need {expect} (truncated or not an index)")
    return np.dtype(CODE_DTYPES[code]), n_seq, n_doc


def check_shards(path: str, manifest: dict, vocab_size: int | None = None) -> None:
    """Raise :class:`ShardError` for the first shard under ``path`` that is not as ``manifest``
    says. ``vocab_size``: the model's (default: the manifest's)."""
    from trainer.indexed_dataset import IndexedDataset

    bound = vocab_size or manifest.get("vocab_size")
    if vocab_size and manifest.get("vocab_size") and manifest["vocab_size"] > vocab_size:
        raise ShardError(f"{path}/manifest.json: tokenizer vocabulary {manifest['vocab_size']} > the model's "
                         f"{vocab_size}")
    total = 0
    for shard in manifest.get("shards", []):
        prefix = os.path.join(path, shard["prefix"])
        dtype, n_seq, _ = read_index_header(prefix + ".idx")
        if manifest.get("dtype") and np.dtype(manifest["dtype"]) != dtype:
            raise ShardError(f"{prefix}.idx: dtype {dtype.name}, the manifest says {manifest['dtype']}")
        lengths = np.fromfile(prefix + ".idx", dtype="<i4", count=n_seq, offset=_HEADER).astype(np.int64)
        want = int(lengths.sum()) * dtype.itemsize
        try:
            have = os.path.getsize(prefix + ".bin")
        except OSError:
            raise ShardError(f"{prefix}.bin: missing") from None
        if have != want or np.any(lengths < 0):
            raise ShardError(f"{prefix}.bin: {have} bytes, its index describes {want} "
                             f"({int(lengths.sum())} tokens of {dtype.name}): truncated or replaced")
        ds = IndexedDataset(prefix)
        if n_seq and (ds.sequence_pointers[0] != 0 or np.any(
                np.diff(ds.sequence_pointers) != lengths[:-1] * dtype.itemsize)):
            raise ShardError(f"{prefix}.idx: sequence offsets do not follow the lengths")
        if "tokens" in shard and int(shard["tokens"]) != ds.num_tokens:
            raise ShardError(f"{prefix}.bin: {ds.num_tokens} tokens, the manifest says {shard['tokens']}")
        if "documents" in shard and int(shard["documents"]) != n_seq:
            raise ShardError(f"{prefix}.idx: {n_seq} documents, the manifest says {shard['documents']}")
        if bound and ds.num_tokens:
            top = int(ds.tokens.max())
            if top >= bound or (dtype.kind == "i" and int(ds.tokens.min()) < 0):
                raise ShardError(f"{prefix}.bin: token id {top} outside the vocabulary of {bound}")
        total += ds.num_tokens
    if "tokens" in manifest and int(manifest["tokens"]) != total:
        raise ShardError(f"{path}/manifest.json: says {manifest['tokens']} tokens, the shards hold {total}")


# ------------------------------------------------------------------------------ checkpoints
def architecture(hf_config) -> dict:
    d = hf_config.to_dict() if hasattr(hf_config, "to_dict") else dict(hf_config)
    return {k: d.get(k) for k in ARCH_KEYS}


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(step_dir: str) -> list[str]:
    out = []
    for root, _, names in os.walk(step_dir):
        for name in names:
            rel = os.path.relpath(os.path.join(root, name), step_dir)
            if rel != CHECKPOINT_MANIFEST:
                out.append(rel)
    return sorted(out)


def write_checkpoint_manifest(step_dir: str, arch: dict) -> None:
    """After a complete save (rank 0): every file's hash and the architecture, atomically."""
    doc = {"format": 1, "architecture": arch,
           "files": {rel: _sha256(os.path.join(step_dir, rel)) for rel in _files(step_dir)}}
    tmp = os.path.join(step_dir, CHECKPOINT_MANIFEST + ".tmp")
    with open(tmp, "w") as fh:
        json.dump(doc, fh, indent=1, sort_keys=True)
    os.replace(tmp, os.path.join(step_dir, CHECKPOINT_MANIFEST))


def verify_checkpoint(step_dir: str, arch: dict) -> None:
    """Raise :class:`CheckpointError` unless ``step_dir`` is exactly what the trainer wrote, for
    a model of architecture ``arch``. Nothing in the directory is unpickled here."""
    path = os.path.join(step_dir, CHECKPOINT_MANIFEST)
    try:
        with open(path) as fh:
            doc = json.load(fh)
        files, saved_arch = dict(doc["files"]), dict(doc["architecture"])
    except FileNotFoundError:
        raise CheckpointError(f"{step_dir}: no {CHECKPOINT_MANIFEST}: not written by this trainer; "
                              f"refusing to load it (loading unpickles its files)") from None
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{path}: unreadable ({e}); refusing to load {step_dir}") from None
    present = _files(step_dir)
    if sorted(files) != present:
        extra = sorted(set(present) - set(files))
        missing = sorted(set(files) - set(present))
        raise CheckpointError(f"{step_dir}: files differ from those saved (extra: {extra[:3]}, missing: "
                              f"{missing[:3]}); refusing to load it")
    for rel, digest in files.items():
        if _sha256(os.path.join(step_dir, rel)) != digest:
            raise CheckpointError(f"{os.path.join(step_dir, rel)}: changed since it was saved; refusing to load")
    diff = {k: (saved_arch.get(k), arch.get(k)) for k in ARCH_KEYS if saved_arch.get(k) != arch.get(k)}
    if diff:
        what = ", ".join(f"{k} {a} in the checkpoint vs {b} configured" for k, (a, b) in diff.items())
        raise CheckpointError(f"{step_dir}: a checkpoint of another model ({what})")
