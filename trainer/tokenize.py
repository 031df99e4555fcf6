"""Tokenise the pipeline's Parquet into Megatron-LM indexed-dataset shards.

    python -m trainer.tokenize --input 'gs://bucket/corpus/*.parquet' \\
        --tokenizer /models/llama3/tokenizer.json --output /data/tokens

One task per input file (a process pool), one ``.bin``/``.idx`` shard per
input file, so re-running after a crash redoes only the missing shards.  Each
task streams the Parquet one record batch at a time, so memory is bounded by
the batch size whatever the size of the file.  EOS is appended to every
document: the loader packs documents back to back and EOS is the only
boundary the model sees.  ``manifest.json`` lists shards and token counts.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing as mp
import os
import sys
import time
from dataclasses import asdict, dataclass

import fsspec
import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trainer.indexed_dataset import IndexedDatasetWriter, best_dtype

EOS_CANDIDATES = ("<|end_of_text|>", "<|endoftext|>", "</s>", "<eos>", "<|eos|>")


@dataclass(frozen=True)
class ShardResult:
    source: str
    prefix: str
    documents: int
    tokens: int
    bytes_in: int
    seconds: float


def find_eos(tok, name: str | None) -> int:
    """The EOS id: ``name`` if given, else the first known EOS spelling."""
    for cand in ([name] if name else EOS_CANDIDATES):
        tid = tok.token_to_id(cand)
        if tid is not None:
            return tid
    raise SystemExit(f"no EOS token in tokenizer (tried {name or EOS_CANDIDATES}); pass --eos-token")


#: What ``python -m pipeline run --output DIR`` writes besides the kept documents: rejects,
#: errors and statistics are not training text.
RUN_DIR_DOCUMENTS = "documents"


def expand_inputs(patterns: list[str]) -> list[str]:
    """fsspec globs or directories -> sorted list of Parquet URLs.

    A pipeline output directory (one holding ``documents/``) means its ``documents/*.parquet``
    only; any other directory means every Parquet file below it."""
    out: list[str] = []
    for pat in patterns:
        fs, _, paths = fsspec.get_fs_token_paths(pat)
        if len(paths) == 1 and fs.isdir(paths[0]):
            root = paths[0].rstrip("/")
            if fs.isdir(f"{root}/{RUN_DIR_DOCUMENTS}"):
                root = f"{root}/{RUN_DIR_DOCUMENTS}"
            paths = sorted(p for p in fs.find(root) if p.endswith(".parquet"))
        out += [fs.unstrip_protocol(p) if "://" in pat else p for p in paths]
    if not out:
        raise SystemExit(f"no Parquet files match {patterns}")
    return sorted(set(out))


def shard_name(index: int, source: str) -> str:
    stem = os.path.basename(source).rsplit(".", 1)[0]
    return f"{index:05d}-{stem}"


def tokenize_file(
    source: str,
    prefix: str,
    tokenizer_path: str,
    eos_token: str | None = None,
    text_column: str = "text",
    batch_rows: int = 1024,
) -> ShardResult:
    """Tokenise one Parquet file into ``prefix.bin``/``prefix.idx``."""
    from tokenizers import Tokenizer

    t0 = time.perf_counter()
    tok = Tokenizer.from_file(tokenizer_path)
    eos = find_eos(tok, eos_token)
    try:
        return _tokenize_into(source, prefix, tok, eos, text_column, batch_rows, t0)
    except BaseException:
        # A failed shard leaves nothing behind: the rerun redoes it from scratch.
        for suffix in (".tmp.bin", ".tmp.idx"):
            try:
                os.remove(prefix + suffix)
            except FileNotFoundError:
                pass
        raise


def _tokenize_into(source: str, prefix: str, tok, eos: int, text_column: str, batch_rows: int,
                   t0: float) -> ShardResult:
    writer = IndexedDatasetWriter(prefix + ".tmp", best_dtype(tok.get_vocab_size()))
    try:
        docs, nbytes = _encode_file(source, writer, tok, eos, text_column, batch_rows)
    except BaseException:
        writer.abort()
        raise
    writer.finalize()
    # Rename last: a shard with both files under its final name is complete.
    os.replace(prefix + ".tmp.bin", prefix + ".bin")
    os.replace(prefix + ".tmp.idx", prefix + ".idx")
    return ShardResult(source, prefix, docs, writer.num_tokens, nbytes, time.perf_counter() - t0)


def _encode_file(source: str, writer: IndexedDatasetWriter, tok, eos: int, text_column: str,
                 batch_rows: int) -> tuple[int, int]:
    """Stream one Parquet file's texts into ``writer``; return (documents, text bytes)."""
    docs = 0
    nbytes = 0
    with fsspec.open(source, "rb") as fh:
        pf = pq.ParquetFile(fh)
        if text_column not in pf.schema_arrow.names:
            raise ValueError(f"{source}: no column {text_column!r} (columns: {', '.join(pf.schema_arrow.names)}); "
                             f"tokenise the documents/ of a pipeline run, or pass --text-column")
        for batch in pf.iter_batches(batch_size=batch_rows, columns=[text_column]):
            col = batch.column(0)
            nbytes += pc.sum(pc.binary_length(col)).as_py() or 0
            texts = [t for t in col.to_pylist() if t]
            if not texts:
                continue
            ids = [e.ids + [eos] for e in tok.encode_batch_fast(texts, add_special_tokens=False)]
            # One write per record batch: per-document numpy calls would
            # cost as much as the encoding for short documents.
            writer.add_documents(np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int64),
                                 [len(x) for x in ids])
            docs += len(ids)
    return docs, nbytes


def _task(args: tuple) -> ShardResult:
    return tokenize_file(*args)


def _limit_threads() -> None:
    # One task per core: the Rust thread pool inside each worker would only
    # oversubscribe the cores.
    os.environ["RAYON_NUM_THREADS"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"


def run(
    inputs: list[str],
    tokenizer_path: str,
    output: str,
    workers: int = 0,
    eos_token: str | None = None,
    text_column: str = "text",
    batch_rows: int = 1024,
) -> dict:
    sources = expand_inputs(inputs)
    os.makedirs(output, exist_ok=True)
    jobs = []
    for i, src in enumerate(sources):
        prefix = os.path.join(output, shard_name(i, src))
        jobs.append((src, prefix, tokenizer_path, eos_token, text_column, batch_rows))
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    t0 = time.perf_counter()
    if workers == 1:
        _limit_threads()
        results = [_task(j) for j in jobs]
    else:
        # spawn: the parent may already hold a tokenizer whose thread pool
        # does not survive fork.
        with mp.get_context("spawn").Pool(workers, initializer=_limit_threads) as pool:
            results = pool.map(_task, jobs, chunksize=1)
    wall = time.perf_counter() - t0

    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(tokenizer_path)
    with open(tokenizer_path, "rb") as fh:
        tok_sha = hashlib.sha256(fh.read()).hexdigest()
    manifest = {
        "format": "megatron-indexed-dataset",
        "tokenizer": os.path.abspath(tokenizer_path),
        "tokenizer_sha256": tok_sha,
        "vocab_size": tok.get_vocab_size(),
        "eos_id": find_eos(tok, eos_token),
        "dtype": np.dtype(best_dtype(tok.get_vocab_size())).name,
        "documents": sum(r.documents for r in results),
        "tokens": sum(r.tokens for r in results),
        "bytes": sum(r.bytes_in for r in results),
        "wall_seconds": wall,
        "workers": workers,
        "shards": [
            {**asdict(r), "prefix": os.path.basename(r.prefix)} for r in results
        ],
    }
    with open(os.path.join(output, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
    return manifest


def main(argv: list[str] | None = None) -> int:
    from pipeline.argv import OneLineParser

    p = OneLineParser(prog="python -m trainer.tokenize", description=__doc__.split("\n\n")[0])
    p.add_argument("--input", nargs="+", required=True,
                   help="Parquet files, globs or directories (fsspec URLs); a pipeline output directory "
                        "is read from its documents/")
    p.add_argument("--tokenizer", required=True, help="path of a tokenizers tokenizer.json")
    p.add_argument("--output", required=True, help="output directory for shards and manifest.json")
    p.add_argument("--workers", type=int, default=0, help="processes (0 = one per core, at most one per file)")
    p.add_argument("--eos-token", default=None,
                   help=f"EOS token appended to each document (default: the first of {' '.join(EOS_CANDIDATES)})")
    p.add_argument("--text-column", default="text", help="column holding the document text")
    p.add_argument("--batch-rows", type=int, default=1024, help="rows per streamed record batch")
    a = p.parse_args(argv)
    try:
        m = run(a.input, a.tokenizer, a.output, a.workers, a.eos_token, a.text_column, a.batch_rows)
    except (ValueError, OSError) as e:  # a file without the text column, an unreadable input
        print(f"{p.prog}: error: {e}", file=sys.stderr)
        return 1
    print(
        f"{m['documents']} documents, {m['tokens']} tokens in {len(m['shards'])} shards, "
        f"{m['tokens'] / max(m['wall_seconds'], 1e-9):.0f} tokens/s with {m['workers']} workers",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
