"""Distributed checkpoints with ``torch.distributed.checkpoint`` (DCP).

``folder/step-N/`` holds one DCP snapshot: sharded model and optimizer
state (resharded on load, so the world size may change), the LR schedule,
the loader position, the step and the RNG states.  DCP writes ``.metadata``
last, and rank 0 then writes ``swallow_checkpoint.json`` (the hash of every
file and the model architecture, ``trainer/integrity.py``): a directory
without it is an interrupted save (or not ours) and is not resumed from; a
directory whose files or architecture differ is refused before DCP
unpickles any of it.
"""
from __future__ import annotations

import os
import random
import re
import shutil
import sys
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict
from torch.distributed.checkpoint.stateful import Stateful

from trainer.integrity import CHECKPOINT_MANIFEST, verify_checkpoint, write_checkpoint_manifest

STEP_RE = re.compile(r"^step-(\d+)$")


class ModelOptim(Stateful):
    """Model and optimizer together: the optimizer's state is keyed by the
    model's parameter names, so both go through ``get_state_dict``."""

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.model = model
        self.optimizer = optimizer

    def state_dict(self) -> dict[str, Any]:
        msd, osd = get_state_dict(self.model, self.optimizer)
        return {"model": msd, "optim": osd}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        set_state_dict(self.model, self.optimizer, model_state_dict=sd["model"], optim_state_dict=sd["optim"])


class Plain(Stateful):
    """Adapter for objects with state_dict/load_state_dict (scheduler, loader)."""

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def state_dict(self) -> dict[str, Any]:
        return self.obj.state_dict()

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        self.obj.load_state_dict(sd)


class TrainState(Stateful):
    """The step counter; everything else that moves is stored elsewhere."""

    def __init__(self) -> None:
        self.step = 0

    def state_dict(self) -> dict[str, Any]:
        return {"step": self.step}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        self.step = int(sd["step"])


class RNG(Stateful):
    """RNG streams.  Every rank is seeded alike (the data order does not use
    them), so rank 0's copy restores all ranks, whatever the world size."""

    def state_dict(self) -> dict[str, Any]:
        sd: dict[str, Any] = {
            "torch": torch.get_rng_state(),
            "numpy": np.random.get_state(),
            "python": random.getstate(),
        }
        if torch.cuda.is_available():
            sd["cuda"] = torch.cuda.get_rng_state()
        return sd

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        torch.set_rng_state(sd["torch"])
        np.random.set_state(sd["numpy"])
        random.setstate(sd["python"])
        if "cuda" in sd and torch.cuda.is_available():
            torch.cuda.set_rng_state(sd["cuda"])


def step_dirs(folder: str) -> dict[int, str]:
    """Complete snapshots under ``folder``, by step."""
    out = {}
    if not os.path.isdir(folder):
        return out
    for name in os.listdir(folder):
        m = STEP_RE.match(name)
        path = os.path.join(folder, name)
        if m and os.path.exists(os.path.join(path, ".metadata")):
            if not os.path.exists(os.path.join(path, CHECKPOINT_MANIFEST)):
                print(f"checkpoint {path}: no {CHECKPOINT_MANIFEST} (an interrupted save, or not written "
                      f"by this trainer): skipped", file=sys.stderr)
                continue
            out[int(m.group(1))] = path
    return out


class Checkpointer:
    def __init__(self, folder: str, keep_last: int, states: dict[str, Stateful],
                 arch: dict | None = None) -> None:
        self.folder = folder
        self.keep_last = keep_last
        self.states = states
        self.arch = arch or {}  # the model's architecture (integrity.architecture)

    def save(self, step: int) -> str:
        path = os.path.join(self.folder, f"step-{step}")
        dcp.save(dict(self.states), checkpoint_id=path)
        dist.barrier()
        if dist.get_rank() == 0:
            write_checkpoint_manifest(path, self.arch)
        dist.barrier()
        if dist.get_rank() == 0 and self.keep_last > 0:
            for old in sorted(step_dirs(self.folder))[: -self.keep_last]:
                shutil.rmtree(os.path.join(self.folder, f"step-{old}"), ignore_errors=True)
        dist.barrier()
        return path

    def load(self, step: int = -1) -> int:
        """Restore ``step`` (or the latest); return the step, 0 if none."""
        found = step_dirs(self.folder) if self.folder else {}
        if not found:
            if step > 0:
                raise FileNotFoundError(f"no checkpoint step-{step} in {self.folder}")
            return 0
        step = step if step > 0 else max(found)
        if step not in found:
            raise FileNotFoundError(f"no checkpoint step-{step} in {self.folder}")
        verify_checkpoint(found[step], self.arch)  # before DCP unpickles anything
        dcp.load(self.states, checkpoint_id=found[step])
        return step
