"""Continued pre-training loop (torchrun entry point).

    torchrun --nproc-per-node 8 -m trainer.train --config swallow_llama3_8b \\
        --model.hf_path /models/Meta-Llama-3-8B --data.path /data/tokens \\
        --checkpoint.folder /ckpt/run1

Runs without torchrun too (a single process).  One code path for CPU/gloo
and CUDA/NCCL.
"""
from __future__ import annotations

import json
import math
import os
import signal
import socket
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
)

from trainer import config as config_lib
from trainer import flags
from trainer import hf_export
from trainer import model as model_lib
from trainer.checkpoint import RNG, Checkpointer, ModelOptim, Plain, TrainState
from trainer.integrity import architecture, check_shards
from trainer.config import JobConfig, OptimizerConfig
from trainer.data import PackedLoader
from trainer.parallelize import build_mesh, device_and_backend, parallelize

# Peak dense bf16 FLOP/s per device, from the vendors' data sheets.
PEAK_BF16_FLOPS = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "A10": 125e12}


def build_optimizer(model: torch.nn.Module, cfg: OptimizerConfig) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for p in model.parameters():
        # Megatron-LM exempts biases and norm weights (all 1-D) from decay.
        (decay if p.ndim >= 2 else no_decay).append(p)
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    # foreach, not fused: fused AdamW has no CPU DTensor kernel everywhere,
    # and the foreach kernel gives bitwise-reproducible steps on both.
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps, foreach=True)


def lr_lambda(cfg: OptimizerConfig, total_steps: int):
    """Linear warm-up to ``lr``, then cosine to ``min_lr`` at the last step
    (Megatron-LM's ``--lr-decay-style cosine``)."""
    floor = cfg.min_lr / cfg.lr

    def f(step: int) -> float:
        # LambdaLR calls with the number of steps taken; step 0 is the first.
        s = step + 1
        if s <= cfg.warmup_steps:
            return s / max(cfg.warmup_steps, 1)
        decay_steps = max(total_steps - cfg.warmup_steps, 1)
        progress = min((s - cfg.warmup_steps) / decay_steps, 1.0)
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return f


def peak_flops(device_type: str, override: float) -> float:
    if override > 0:
        return override
    if device_type == "cuda":
        name = torch.cuda.get_device_name()
        for key, val in PEAK_BF16_FLOPS.items():
            if key in name:
                return val
    return 0.0


def _single_process_env() -> None:
    """Let ``python -m trainer.train`` run without torchrun."""
    if "RANK" in os.environ:
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK="0", WORLD_SIZE="1", LOCAL_RANK="0")


def _attempt_store() -> dist.Store:
    """The rendezvous store, namespaced by torchrun's restart count.

    Under torchrun the store is the agent's and outlives a restart; without a
    per-attempt prefix, a restarted rank can read the dead rank's gloo
    address from the previous attempt and fail to connect.
    """
    store, _, _ = next(dist.rendezvous("env://"))
    return dist.PrefixStore(f"attempt-{os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')}/", store)


class Logger:
    def __init__(self, path: str, rank: int) -> None:
        self.rank = rank
        self.fh = open(path, "a") if path and rank == 0 else None

    def log(self, rec: dict) -> None:
        if self.rank != 0:
            return
        parts = [f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in rec.items()]
        print(" ".join(parts), flush=True)
        if self.fh:
            self.fh.write(json.dumps(rec) + "\n")
            self.fh.flush()


def export(model: torch.nn.Module, conf, cfg: JobConfig) -> None:
    """Gather full weights onto rank 0 (collective) and write an HF dir, with the tokenizer of the
    base model or of the shards."""
    sd = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    if dist.get_rank() == 0:
        hf_export.export_hf(sd, conf, cfg.checkpoint.export_dir, cfg.checkpoint.export_dtype,
                            hf_export.tokenizer_source(cfg.model.hf_path, cfg.data.path))
    dist.barrier()


def make_output_dirs(cfg: JobConfig) -> None:
    """Create every folder the run writes to before anything is written or any collective runs.

    Every rank does it (``exist_ok``), before the process group exists: a rank that cannot create
    them fails alone and at once, instead of rank 0 dying on ``open(log_file)`` while the others
    wait in their first all-gather until torchrun kills them. Per-node disks need the folders on
    every node anyway (DCP writes one file per rank)."""
    for folder in (os.path.dirname(os.path.abspath(cfg.log_file)) if cfg.log_file else "",
                   cfg.checkpoint.folder, cfg.checkpoint.export_dir):
        if folder:
            os.makedirs(folder, exist_ok=True)


def train(cfg: JobConfig) -> list[float]:
    device_type, backend = device_and_backend(cfg.train.device)
    make_output_dirs(cfg)
    _single_process_env()
    if device_type == "cuda":
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group(backend, store=_attempt_store(), rank=int(os.environ["RANK"]),
                            world_size=int(os.environ["WORLD_SIZE"]))
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device(device_type, torch.cuda.current_device()) if device_type == "cuda" else torch.device("cpu")
    torch.manual_seed(cfg.train.seed)
    log = Logger(cfg.log_file, rank)

    mesh = build_mesh(device_type, world, cfg.parallel)
    conf = model_lib.hf_config(cfg.model)
    model = model_lib.build_meta_model(conf)
    parallelize(model, mesh, cfg.parallel)
    model.to_empty(device=device)
    model_lib.init_buffers(model, device)
    model.train()

    optimizer = build_optimizer(model, cfg.optimizer)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(cfg.optimizer, cfg.train.steps))
    # Shards checked against the manifest and the model's vocabulary before any step.
    with open(os.path.join(cfg.data.path, "manifest.json")) as fh:
        check_shards(cfg.data.path, json.load(fh), conf.vocab_size)
    # Every mesh dim is data parallel, so the data rank is the global rank.
    loader = PackedLoader(
        cfg.data.path, cfg.data.seq_len, cfg.train.global_batch, cfg.train.micro_batch, rank, world, cfg.data.seed
    )
    train_state = TrainState()
    ckpt = Checkpointer(
        cfg.checkpoint.folder,
        cfg.checkpoint.keep_last,
        {
            "model_optim": ModelOptim(model, optimizer),
            "lr_scheduler": Plain(scheduler),
            "dataloader": Plain(loader),
            "train_state": train_state,
            "rng": RNG(),
        },
        arch=architecture(conf),
    )
    start = ckpt.load(cfg.checkpoint.load_step) if cfg.checkpoint.folder else 0
    assert start == train_state.step
    if start == 0:
        source = (model_lib.safetensors_rows(cfg.model.hf_path) if cfg.model.hf_path
                  else model_lib.seeded_init_rows(conf, cfg.model.init_seed))
        with source as rows:
            model_lib.load_into_shards(model, rows)
    if rank == 0 and cfg.checkpoint.folder:
        model_lib.save_json(cfg.to_dict(), os.path.join(cfg.checkpoint.folder, "job_config.json"))
        conf.to_json_file(os.path.join(cfg.checkpoint.folder, "hf_config.json"))
    log.log({"event": "start", "step": start, "world_size": world, "mesh": list(mesh.shape),
             "accum_steps": loader.accum_steps, "params": model_lib.num_params(conf)})

    tokens_per_step = cfg.train.global_batch * cfg.data.seq_len
    local_tokens = loader.accum_steps * cfg.train.micro_batch * cfg.data.seq_len
    flops_tok = model_lib.flops_per_token(conf, cfg.data.seq_len)
    peak = peak_flops(device_type, cfg.train.peak_flops)
    losses: list[float] = []
    for step in range(start + 1, cfg.train.steps + 1):
        t0 = time.perf_counter()
        micro = loader.next_step()
        t_data = time.perf_counter() - t0
        loss_sum = torch.zeros((), device=device, dtype=torch.float32)
        for inputs, labels in micro:
            t1 = time.perf_counter()
            inputs, labels = inputs.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            t_data += time.perf_counter() - t1
            logits = model(input_ids=inputs).logits
            # Sum over tokens, divided by this rank's tokens per step: FSDP
            # averages gradients over ranks, so the update is the mean over
            # the global batch however it is split into micro-batches.
            loss = F.cross_entropy(logits.float().flatten(0, 1), labels.flatten(), reduction="sum") / local_tokens
            loss.backward()
            loss_sum += loss.detach()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optimizer.grad_clip, foreach=True)
        lr = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        dist.all_reduce(loss_sum)
        loss_val = (loss_sum / world).item()
        if hasattr(grad_norm, "full_tensor"):
            grad_norm = grad_norm.full_tensor()
        if device_type == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        losses.append(loss_val)
        train_state.step = step
        if step % cfg.train.log_every == 0 or step == cfg.train.steps:
            tps = tokens_per_step / dt
            rec = {
                "step": step,
                "loss": loss_val,
                "lr": lr,
                "grad_norm": grad_norm.item(),
                "tokens_per_s": tps,
                "tokens_per_s_per_device": tps / world,
                "mfu": (tps / world * flops_tok / peak) if peak else None,
                "data_share": t_data / dt,
                "step_time_s": dt,
            }
            if device_type == "cuda":
                rec["peak_mem_gib"] = torch.cuda.max_memory_allocated() / 2**30
            log.log(rec)
        if cfg.checkpoint.folder and (step % cfg.checkpoint.interval == 0 or step == cfg.train.steps):
            ckpt.save(step)
        if step == cfg.fault.kill_at_step and start == 0 and rank == 0:
            # A real, unannounced death: no cleanup, no flush of anything.
            os.kill(os.getpid(), signal.SIGKILL)

    if cfg.checkpoint.export_dir:
        export(model, conf, cfg)
    log.log({"event": "end", "step": cfg.train.steps})
    # Without the barrier a rank can tear down gloo while a peer is still in
    # a collective, and the peer then aborts (random SIGABRT at exit).
    dist.barrier()
    dist.destroy_process_group()
    return losses


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        name, overrides = flags.parse_cli(argv)
        if "help" in overrides:
            print(flags.help_text(name), end="")
            return 0
        cfg = config_lib.load(name, overrides)
    except (ValueError, OSError) as e:  # unknown key, bad value, unreadable config file
        print(f"python -m trainer.train: error: {e} (see python -m trainer.train --help)", file=sys.stderr)
        return 2
    train(cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
