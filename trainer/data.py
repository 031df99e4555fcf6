"""Deterministic, stateful loader over the token shards.

Documents (each ending in EOS) are concatenated across shards in manifest
order and cut into ``seq_len + 1``-token windows overlapping by one token
(inputs ``w[:-1]``, labels ``w[1:]``), as Megatron-LM's GPTDataset packs.
Each epoch visits the windows in a permutation seeded by ``(seed, epoch)``.

The order is a function of the *global* sample counter only: optimiser step
``s`` uses samples ``[s * B, (s + 1) * B)`` of the global order, and rank
``r`` of ``W`` takes micro-batch ``m`` as the ``r``-th slice of the ``m``-th
``W * micro_batch`` block.  So the state is one integer, identical on every
rank, and resuming with another world size sees the same global batches.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import torch

from trainer.indexed_dataset import IndexedDataset


class TokenStream:
    """All shards of a manifest as one virtual 1-D token array."""

    def __init__(self, path: str) -> None:
        with open(os.path.join(path, "manifest.json")) as fh:
            self.manifest = json.load(fh)
        self.shards = [IndexedDataset(os.path.join(path, s["prefix"])) for s in self.manifest["shards"]]
        sizes = [s.num_tokens for s in self.shards]
        self.starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.num_tokens = int(self.starts[-1])

    def slice(self, start: int, length: int) -> np.ndarray:
        out = np.empty(length, dtype=np.int64)
        filled = 0
        shard = int(np.searchsorted(self.starts, start, side="right")) - 1
        pos = start - int(self.starts[shard])
        while filled < length:
            toks = self.shards[shard].tokens
            take = min(length - filled, toks.size - pos)
            out[filled : filled + take] = toks[pos : pos + take]
            filled += take
            shard += 1
            pos = 0
        return out


@dataclass
class LoaderState:
    consumed: int = 0  # samples of the global order used so far


class PackedLoader:
    """Yields ``(inputs, labels)`` micro-batches for one data-parallel rank."""

    def __init__(
        self,
        path: str,
        seq_len: int,
        global_batch: int,
        micro_batch: int,
        dp_rank: int,
        dp_size: int,
        seed: int,
    ) -> None:
        if global_batch % (micro_batch * dp_size):
            raise ValueError(
                f"global_batch {global_batch} is not a multiple of micro_batch {micro_batch} x dp {dp_size}"
            )
        self.stream = TokenStream(path)
        self.seq_len = seq_len
        self.global_batch = global_batch
        self.micro_batch = micro_batch
        self.dp_rank = dp_rank
        self.dp_size = dp_size
        self.seed = seed
        self.accum_steps = global_batch // (micro_batch * dp_size)
        self.num_samples = (self.stream.num_tokens - 1) // seq_len
        if self.num_samples < global_batch:
            raise ValueError(f"{self.num_samples} sequences of {seq_len} tokens < one global batch")
        self.state = LoaderState()
        self._perm_epoch = -1
        self._perm: np.ndarray | None = None

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch != self._perm_epoch:
            rng = np.random.Generator(np.random.PCG64([self.seed, epoch]))
            self._perm = rng.permutation(self.num_samples)
            self._perm_epoch = epoch
        assert self._perm is not None
        return self._perm

    def _sample(self, global_index: int) -> np.ndarray:
        epoch, i = divmod(global_index, self.num_samples)
        j = int(self._permutation(epoch)[i])
        return self.stream.slice(j * self.seq_len, self.seq_len + 1)

    def next_step(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The ``accum_steps`` micro-batches of this rank for the next step."""
        base = self.state.consumed
        micro = []
        for m in range(self.accum_steps):
            first = base + m * self.dp_size * self.micro_batch + self.dp_rank * self.micro_batch
            rows = np.stack([self._sample(first + k) for k in range(self.micro_batch)])
            t = torch.from_numpy(rows)
            micro.append((t[:, :-1].contiguous(), t[:, 1:].contiguous()))
        self.state.consumed = base + self.global_batch
        return micro

    def state_dict(self) -> dict:
        # seed/seq_len are stored to refuse a resume that would silently
        # change the data order.
        return {"consumed": self.state.consumed, "seed": self.seed, "seq_len": self.seq_len}

    def load_state_dict(self, sd: dict) -> None:
        if int(sd["seed"]) != self.seed or int(sd["seq_len"]) != self.seq_len:
            raise ValueError(f"loader state {sd} does not match seed={self.seed} seq_len={self.seq_len}")
        self.state.consumed = int(sd["consumed"])
