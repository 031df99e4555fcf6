"""Llama via ``transformers``: build on the meta device, load, export.

The model is always created on the meta device and sharded before any
weight exists, so no rank ever holds the full model in memory; weights then
arrive as a full state dict read from safetensors (memory-mapped) and each
rank copies only its own shard out of it.
"""
from __future__ import annotations

import glob
import json
import os

import torch
from safetensors import safe_open
from safetensors.torch import save_file
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


def read_safetensors_dir(path: str) -> dict[str, torch.Tensor]:
    """All tensors of a HF checkpoint directory (sharded or not), mmapped."""
    files = sorted(glob.glob(os.path.join(path, "*.safetensors")))
    if not files:
        raise FileNotFoundError(f"no *.safetensors in {path}")
    sd: dict[str, torch.Tensor] = {}
    for f in files:
        with safe_open(f, framework="pt") as fh:
            for k in fh.keys():
                sd[k] = fh.get_tensor(k)
    return sd


def initial_state_dict(cfg: ModelConfig, conf: LlamaConfig) -> dict[str, torch.Tensor]:
    """Full weights to start from: the HF checkpoint, or a seeded init."""
    if cfg.hf_path:
        sd = read_safetensors_dir(cfg.hf_path)
    else:
        # Seeded on CPU so every world size starts from the same weights.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.init_seed)
            sd = LlamaForCausalLM(conf).state_dict()
    if conf.tie_word_embeddings:
        sd.pop("lm_head.weight", None)
    return sd


def export_hf(sd: dict[str, torch.Tensor], conf: LlamaConfig, out_dir: str, dtype: str = "bfloat16") -> None:
    """Write a directory that ``LlamaForCausalLM.from_pretrained`` loads."""
    os.makedirs(out_dir, exist_ok=True)
    tensors = {}
    for k, v in sd.items():
        if conf.tie_word_embeddings and k == "lm_head.weight":
            continue  # shared with embed_tokens; safetensors refuses aliases
        tensors[k] = v.detach().to("cpu", DTYPES[dtype]).contiguous()
    conf = LlamaConfig.from_dict(conf.to_dict())
    conf.dtype = dtype
    conf.architectures = ["LlamaForCausalLM"]
    conf.save_pretrained(out_dir)
    save_file(tensors, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})


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
