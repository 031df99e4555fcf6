"""Llama via ``transformers``: build on the meta device, load (export: ``trainer.hf_export``).

The model is always created on the meta device and sharded before any
weight exists, so no rank ever holds the full model in memory; each rank
then reads from the safetensors files only the rows of its own shards.
"""
from __future__ import annotations

import contextlib
import glob
import json
import os
from collections.abc import Callable, Iterator

import torch
from safetensors import safe_open
from torch.distributed.tensor._utils import compute_local_shape_and_global_offset
from transformers import LlamaConfig, LlamaForCausalLM

from trainer.config import ModelConfig

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def hf_config(cfg: ModelConfig) -> LlamaConfig:
    if cfg.hf_path:
        conf = LlamaConfig.from_pretrained(cfg.hf_path)
    else:
        conf = LlamaConfig(
            vocab_size=cfg.vocab_size,
            hidden_size=cfg.hidden_size,
            intermediate_size=cfg.intermediate_size,
            num_hidden_layers=cfg.num_hidden_layers,
            num_attention_heads=cfg.num_attention_heads,
            num_key_value_heads=cfg.num_key_value_heads,
            max_position_embeddings=cfg.max_position_embeddings,
            rope_theta=cfg.rope_theta,
            rms_norm_eps=cfg.rms_norm_eps,
            tie_word_embeddings=cfg.tie_word_embeddings,
        )
    conf.use_cache = False
    # sdpa: the fused attention kernel on GPU, deterministic math on CPU.
    conf._attn_implementation = "sdpa"
    return conf


def build_meta_model(conf: LlamaConfig) -> LlamaForCausalLM:
    with torch.device("meta"):
        model = LlamaForCausalLM(conf)
    return model


def init_buffers(model: LlamaForCausalLM, device: torch.device) -> None:
    """Recompute the RoPE tables: non-persistent buffers are garbage after
    ``to_empty`` and are not in any checkpoint."""
    rotary = model.model.rotary_emb
    with torch.device("cpu"):
        fresh = type(rotary)(model.config)
    for name, buf in fresh.named_buffers():
        setattr(rotary, name, buf.to(device))


# (name, first row, end row) -> those rows of the full tensor
RowReader = Callable[[str, int, int], torch.Tensor]


@contextlib.contextmanager
def safetensors_rows(path: str) -> Iterator[RowReader]:
    """Row ranges of the tensors of a HF checkpoint directory (one file or
    sharded): ``get_slice`` reads only the requested rows from disk."""
    files = sorted(glob.glob(os.path.join(path, "*.safetensors")))
    if not files:
        raise FileNotFoundError(f"no *.safetensors in {path}")
    with contextlib.ExitStack() as stack:
        where = {}
        for f in files:
            fh = stack.enter_context(safe_open(f, framework="pt"))
            for k in fh.keys():
                where[k] = fh
        yield lambda name, a, b: where[name].get_slice(name)[a:b]


@contextlib.contextmanager
def seeded_init_rows(conf: LlamaConfig, seed: int) -> Iterator[RowReader]:
    """A from-scratch init, identical for every world size (built once on
    CPU from ``seed``); meant for small models and tests -- continued
    pre-training starts from a checkpoint."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        sd = LlamaForCausalLM(conf).state_dict()
    yield lambda name, a, b: sd[name][a:b]


def load_into_shards(model: torch.nn.Module, rows: RowReader) -> None:
    """Fill each rank's FSDP shard straight from the source: a rank reads
    only the rows it owns (``fully_shard`` shards dim 0), never the whole
    model."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            shape, offset = compute_local_shape_and_global_offset(p.shape, p.device_mesh, p.placements)
            if any(offset[1:]) or tuple(shape[1:]) != tuple(p.shape[1:]):
                raise ValueError(f"{name}: only dim-0 sharding is supported, got {p.placements}")
            local = p.to_local()
            if local.numel():
                local.copy_(rows(name, offset[0], offset[0] + shape[0]))


def num_params(conf: LlamaConfig, embeddings: bool = True) -> int:
    h, i, l, v = conf.hidden_size, conf.intermediate_size, conf.num_hidden_layers, conf.vocab_size
    kv = conf.num_key_value_heads * (h // conf.num_attention_heads)
    per_layer = h * h * 2 + h * kv * 2 + 3 * h * i + 2 * h
    n = l * per_layer + h
    emb = v * h * (1 if conf.tie_word_embeddings else 2)
    return n + (emb if embeddings else 0)


def flops_per_token(conf: LlamaConfig, seq_len: int) -> float:
    """Training FLOPs per token: 6N for the matmuls (forward + backward,
    embeddings lookup excluded but the output projection kept) plus the
    attention scores, 12 * layers * hidden * seq (PaLM appendix B)."""
    n = num_params(conf, embeddings=False) + conf.vocab_size * conf.hidden_size
    return 6.0 * n + 12.0 * conf.num_hidden_layers * conf.hidden_size * seq_len


def save_json(obj: dict, path: str) -> None:
    with open(path, "w") as fh:
        json.dump(obj, fh, indent=1, sort_keys=True)
