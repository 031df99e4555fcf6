"""Helpers for the trainer tests: paths, free ports, torchrun, logs."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "trainer"
TOKENIZER = DATA / "tokenizer.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_env() -> dict[str, str]:
    env = dict(os.environ)
    # One thread per process: torchrun sets this only for nproc > 1, and a
    # different thread count changes the float summation order of CPU
    # matmuls, which would break the bitwise comparisons between layouts.
    env["OMP_NUM_THREADS"] = "1"
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("RANK", None)
    return env


def torchrun_cmd(nproc: int, args: list[str], nnodes: int = 1, port: int | None = None,
                 max_restarts: int = 0, rdzv_id: str = "test") -> list[str]:
    port = port or free_port()
    return [
        sys.executable, "-m", "torch.distributed.run",
        f"--nnodes={nnodes}", f"--nproc-per-node={nproc}",
        "--rdzv-backend=c10d", f"--rdzv-endpoint=127.0.0.1:{port}", f"--rdzv-id={rdzv_id}",
        f"--max-restarts={max_restarts}",
        "-m", "trainer.train", *args,
    ]


def torchrun(nproc: int, args: list[str], timeout: int = 240, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(torchrun_cmd(nproc, args, **kw), cwd=REPO, env=run_env(),
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"torchrun failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


def read_log(path: Path) -> tuple[dict[int, float], list[dict]]:
    """Losses by step (the last record of a step wins: a resumed run logs
    the replayed steps again) and all records."""
    recs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    losses = {r["step"]: r["loss"] for r in recs if "loss" in r}
    return losses, recs
