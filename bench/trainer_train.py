"""Training throughput: tokens/s, MFU and peak memory.

    # one GPU: a Llama-3.2-1B-shaped model, bf16, FSDP2
    python bench/trainer_train.py
    # several: torchrun --nproc-per-node 8 bench/trainer_train.py
    # CPU (no CUDA): the tiny recipe, to check the script end to end

Feeds a synthetic token shard (uniform random ids, written once to a temp
dir) so that the figure is the trainer's, not the disk's; real shards can be
given with ``--data``.  Reports the median over steps after ``--warmup``
(the first steps include allocator growth and, with ``--compile``, tracing).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from trainer import config as C  # noqa: E402
from trainer.indexed_dataset import IndexedDatasetWriter, best_dtype  # noqa: E402
from trainer.train import train  # noqa: E402


def synthetic_shards(path: str, vocab: int, tokens: int, eos: int = 0) -> None:
    os.makedirs(path, exist_ok=True)
    rng = np.random.default_rng(0)
    w = IndexedDatasetWriter(os.path.join(path, "synthetic"), best_dtype(vocab))
    left = tokens
    while left > 0:
        n = int(min(left, rng.integers(256, 4096)))
        doc = rng.integers(1, vocab, size=n)
        doc[-1] = eos
        w.add_document(doc)
        left -= n
    w.finalize()
    with open(os.path.join(path, "manifest.json"), "w") as fh:
        json.dump({"shards": [{"prefix": "synthetic", "tokens": w.num_tokens}], "tokens": w.num_tokens,
                   "vocab_size": vocab, "eos_id": eos}, fh)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cuda = torch.cuda.is_available()
    p.add_argument("--recipe", default="llama_1b" if cuda else "tiny")
    p.add_argument("--steps", type=int, default=30 if cuda else 12)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--micro-batch", type=int, default=0, help="override train.micro_batch")
    p.add_argument("--global-batch", type=int, default=0, help="override train.global_batch")
    p.add_argument("--seq-len", type=int, default=0)
    p.add_argument("--compile", action="store_true")
    p.add_argument("--ac", action="store_true", help="activation checkpointing")
    p.add_argument("--data", default="")
    p.add_argument("--out", default="")
    a = p.parse_args()

    cfg = C.load(a.recipe)
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    with tempfile.TemporaryDirectory() as tmp:
        seq = a.seq_len or cfg.data.seq_len
        gb = a.global_batch or cfg.train.global_batch
        data = a.data
        if not data:
            data = os.path.join(tmp, "data")
            # Identical bytes on every rank, so each may write its own copy.
            synthetic_shards(data, cfg.model.vocab_size, gb * (seq + 1) * 2 + 1)
        log = os.path.join(tmp, "log.jsonl")
        ov = {"data.path": data, "data.seq_len": seq, "train.steps": a.steps, "train.global_batch": gb,
              "parallel.compile": a.compile, "log_file": log}
        if a.ac:
            ov["parallel.activation_checkpointing"] = True
        if a.micro_batch:
            ov["train.micro_batch"] = a.micro_batch
        if not cuda:
            ov["train.device"] = "cpu"
        cfg = C.with_overrides(cfg, ov)
        train(cfg)
        if rank != 0:
            return 0
        recs = [json.loads(x) for x in open(log) if '"loss"' in x]
    body = [r for r in recs if r["step"] > a.warmup] or recs
    med = lambda k: statistics.median(r[k] for r in body) if body[0].get(k) is not None else None  # noqa: E731
    result = {
        "recipe": a.recipe,
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "world_size": world,
        "seq_len": seq,
        "global_batch": gb,
        "compile": a.compile,
        "activation_checkpointing": cfg.parallel.activation_checkpointing,
        "param_dtype": cfg.parallel.param_dtype,
        "tokens_per_s": med("tokens_per_s"),
        "tokens_per_s_per_device": med("tokens_per_s_per_device"),
        "mfu": med("mfu"),
        "peak_mem_gib": max(r.get("peak_mem_gib") or 0 for r in recs) if cuda else None,
        "data_share": med("data_share"),
        "first_loss": recs[0]["loss"],
        "last_loss": recs[-1]["loss"],
    }
    print(json.dumps(result, indent=1))
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
