"""Megatron-LM indexed dataset (``.bin`` + ``.idx``), written and read.

Written from the format as megatron-core's ``IndexedDataset`` reads it, so
that shards made here feed Megatron-LM unchanged.  ``.bin`` is the tokens of
every sequence back to back in one dtype.  ``.idx`` (all little-endian):

====================  ======================================================
``b"MMIDIDX\\x00\\x00"``  9-byte magic
``<Q`` version         always 1
``<B`` dtype code      1 uint8, 2 int8, 3 int16, 4 int32, 5 int64,
                       6 float64, 7 float32, 8 uint16
``<Q`` sequence count  N
``<Q`` document count  D + 1 (length of the document index below)
``int32[N]``           tokens per sequence
``int64[N]``           byte offset of each sequence in ``.bin``
``int64[D + 1]``       document index: 0, then the sequence count after
                       each document (one sequence per document here)
====================  ======================================================
"""
from __future__ import annotations

import os
import struct
from typing import BinaryIO

import numpy as np

MAGIC = b"MMIDIDX\x00\x00"
VERSION = 1
DTYPE_CODES: dict[type, int] = {
    np.uint8: 1,
    np.int8: 2,
    np.int16: 3,
    np.int32: 4,
    np.int64: 5,
    np.float64: 6,
    np.float32: 7,
    np.uint16: 8,
}
CODE_DTYPES = {v: k for k, v in DTYPE_CODES.items()}


def best_dtype(vocab_size: int) -> type:
    """uint16 halves the shard size whenever the vocabulary fits (as Megatron)."""
    return np.uint16 if vocab_size < 65500 else np.int32


class IndexedDatasetWriter:
    """Streams documents into ``prefix.bin``; ``finalize`` writes ``prefix.idx``.

    Only the per-document lengths are kept in memory (12 bytes a document).
    """

    def __init__(self, prefix: str, dtype: type = np.uint16) -> None:
        self.prefix = prefix
        self.dtype = np.dtype(dtype)
        self._bin: BinaryIO = open(prefix + ".bin", "wb")
        self._lengths: list[int] = []
        self.num_tokens = 0

    def add_document(self, tokens: np.ndarray | list[int]) -> None:
        arr = np.asarray(tokens, dtype=self.dtype)
        self._bin.write(arr.tobytes(order="C"))
        self._lengths.append(int(arr.size))
        self.num_tokens += int(arr.size)

    def add_documents(self, flat: np.ndarray, lengths: list[int]) -> None:
        """Many documents at once: ``flat`` is their tokens back to back."""
        arr = np.asarray(flat, dtype=self.dtype)
        if arr.size != sum(lengths):
            raise ValueError("lengths do not add up to the tokens given")
        self._bin.write(arr.tobytes(order="C"))
        self._lengths.extend(int(n) for n in lengths)
        self.num_tokens += int(arr.size)

    def abort(self) -> None:
        """Close without writing the index (the caller removes the partial files)."""
        self._bin.close()

    def finalize(self) -> None:
        self._bin.close()
        lengths = np.asarray(self._lengths, dtype=np.int32)
        pointers = np.zeros(len(lengths), dtype=np.int64)
        if len(lengths) > 1:
            np.cumsum(lengths[:-1].astype(np.int64) * self.dtype.itemsize, out=pointers[1:])
        doc_index = np.arange(len(lengths) + 1, dtype=np.int64)
        with open(self.prefix + ".idx", "wb") as fh:
            fh.write(MAGIC)
            fh.write(struct.pack("<Q", VERSION))
            fh.write(struct.pack("<B", DTYPE_CODES[self.dtype.type]))
            fh.write(struct.pack("<Q", len(lengths)))
            fh.write(struct.pack("<Q", len(doc_index)))
            fh.write(lengths.astype("<i4").tobytes())
            fh.write(pointers.astype("<i8").tobytes())
            fh.write(doc_index.astype("<i8").tobytes())


class IndexedDataset:
    """Memory-mapped reader: ``ds[i]`` is sequence ``i`` as a numpy view."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        from trainer.integrity import read_index_header

        # magic, version, a known dtype and a size matching the counts, else a ShardError naming it
        self.dtype, n_seq, n_doc = read_index_header(prefix + ".idx")
        offset = 34
        idx = np.memmap(prefix + ".idx", mode="r", dtype=np.uint8)
        self.sequence_lengths = np.frombuffer(idx, dtype="<i4", count=n_seq, offset=offset)
        offset += 4 * n_seq
        self.sequence_pointers = np.frombuffer(idx, dtype="<i8", count=n_seq, offset=offset)
        offset += 8 * n_seq
        self.document_indices = np.frombuffer(idx, dtype="<i8", count=n_doc, offset=offset)
        size = os.path.getsize(prefix + ".bin")
        # np.memmap refuses empty files; an empty shard is legal (no documents).
        self.tokens = (
            np.memmap(prefix + ".bin", mode="r", dtype=self.dtype)
            if size
            else np.zeros(0, dtype=self.dtype)
        )

    def __len__(self) -> int:
        return len(self.sequence_lengths)

    def __getitem__(self, i: int) -> np.ndarray:
        start = int(self.sequence_pointers[i]) // self.dtype.itemsize
        return self.tokens[start : start + int(self.sequence_lengths[i])]

    @property
    def num_tokens(self) -> int:
        return int(self.tokens.size)
