"""Export a trained model as a Hugging Face directory that both ``AutoModelForCausalLM`` and
``AutoTokenizer`` load: ``config.json``, ``model.safetensors``, ``generation_config.json`` and the
tokenizer files.

The tokenizer comes from the base model's directory when training started from one (Swallow
continues pre-training of Llama/Mistral and keeps their tokenizer), else from the
``tokenizer.json`` the shards were made with (``manifest.json`` of ``trainer.tokenize`` records
its path and SHA-256). Special-token ids are made to agree with the shards: the model learnt to
emit the shards' EOS id at the end of every document, so that id is the ``eos_token_id`` of
``config.json`` and ``generation_config.json`` (``generate`` stops on it). From scratch the
shards hold no BOS and no padding, and each document starts right after the previous one's EOS,
so BOS and PAD are that EOS too -- GPT-2's convention (``<|endoftext|>`` is its bos, eos and, in
``generate``, pad; Radford et al. 2019, ``transformers`` ``GPT2Config``).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass

import torch
from safetensors.torch import save_file
from transformers import GenerationConfig, LlamaConfig

from trainer.model import DTYPES

#: Files of a Hugging Face tokenizer (fast, sentencepiece or BPE vocab/merges, chat template).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                   "added_tokens.json", "vocab.json", "merges.txt", "chat_template.jinja")


@dataclass(frozen=True)
class TokenizerSource:
    """Where the export's tokenizer and special ids come from.

    ``base_dir``: the base model's HF directory (``model.hf_path``), if any; ``tokenizer_file``:
    the ``tokenizer.json`` the shards were made with; ``eos_id``/``sha256``: what the shards'
    manifest records about it."""

    base_dir: str | None = None
    tokenizer_file: str | None = None
    eos_id: int | None = None
    sha256: str | None = None


def tokenizer_source(hf_path: str | None, data_path: str | None, tokenizer: str | None = None) -> TokenizerSource:
    """Read the shards' ``manifest.json`` (if ``data_path`` still holds it) and combine it with the
    base directory. ``tokenizer`` overrides both: a HF directory or a ``tokenizer.json``."""
    manifest: dict = {}
    if data_path and os.path.isfile(os.path.join(data_path, "manifest.json")):
        with open(os.path.join(data_path, "manifest.json")) as fh:
            manifest = json.load(fh)
    base_dir = hf_path or None
    tok_file = manifest.get("tokenizer")
    if tokenizer:
        if os.path.isdir(tokenizer):
            base_dir = tokenizer
        else:
            base_dir, tok_file = None, tokenizer
    return TokenizerSource(base_dir=base_dir, tokenizer_file=tok_file, eos_id=manifest.get("eos_id"),
                           sha256=manifest.get("tokenizer_sha256"))


def _warn(msg: str) -> None:
    print(f"trainer export: warning: {msg}", file=sys.stderr)


def _sha256(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def special_ids(conf: LlamaConfig, src: TokenizerSource) -> dict[str, int | list[int] | None]:
    """bos/eos/pad ids that agree with the shards (see the module docstring)."""
    shard_eos = src.eos_id
    if shard_eos is None:  # no manifest: keep what the config says
        eos = conf.eos_token_id
    elif isinstance(conf.eos_token_id, list):  # e.g. an instruct base model with several stop ids
        eos = conf.eos_token_id if shard_eos in conf.eos_token_id else [shard_eos, *conf.eos_token_id]
    else:
        eos = shard_eos
    first_eos = eos[0] if isinstance(eos, list) else eos
    if src.base_dir:  # the base model's BOS; its PAD if it has one, else EOS (what generate does)
        bos = conf.bos_token_id
        pad = conf.pad_token_id if conf.pad_token_id is not None else first_eos
    else:
        bos = pad = first_eos
    return {"bos_token_id": bos, "eos_token_id": eos, "pad_token_id": pad}


def _same_tokenizer(path: str, src: TokenizerSource) -> bool:
    """Whether ``path`` is the shards' tokenizer: same bytes, or the same vocabulary where the
    shards' file is still there to compare (a re-serialised copy differs in bytes only)."""
    if not src.sha256 or _sha256(path) == src.sha256:
        return True
    if src.tokenizer_file and os.path.isfile(src.tokenizer_file):
        from tokenizers import Tokenizer

        return Tokenizer.from_file(path).get_vocab() == Tokenizer.from_file(src.tokenizer_file).get_vocab()
    return False


def _has_tokenizer(d: str | None) -> bool:
    return bool(d) and any(os.path.isfile(os.path.join(d, f)) for f in ("tokenizer.json", "tokenizer.model"))


def write_tokenizer(out_dir: str, src: TokenizerSource, ids: dict) -> str | None:
    """Copy or build the tokenizer files; return where they came from (None: no tokenizer)."""
    if _has_tokenizer(src.base_dir):
        base_tok = os.path.join(src.base_dir, "tokenizer.json")
        if os.path.isfile(base_tok) and not _same_tokenizer(base_tok, src):
            _warn(f"{base_tok} is not the tokenizer the shards were made with ({src.tokenizer_file}); "
                  f"exporting the base model's")
        for name in TOKENIZER_FILES:
            path = os.path.join(src.base_dir, name)
            if os.path.isfile(path):
                shutil.copyfile(path, os.path.join(out_dir, name))
        return src.base_dir
    if src.tokenizer_file and os.path.isfile(src.tokenizer_file):
        from tokenizers import Tokenizer
        from transformers import PreTrainedTokenizerFast

        raw = Tokenizer.from_file(src.tokenizer_file)
        names = {k: raw.id_to_token(v[0] if isinstance(v, list) else v) for k, v in ids.items() if v is not None}
        tok = PreTrainedTokenizerFast(tokenizer_object=raw, bos_token=names.get("bos_token_id"),
                                      eos_token=names.get("eos_token_id"), pad_token=names.get("pad_token_id"),
                                      clean_up_tokenization_spaces=False)
        tok.save_pretrained(out_dir)
        # The shards' own bytes, so the export's tokenizer.json has the manifest's SHA-256.
        shutil.copyfile(src.tokenizer_file, os.path.join(out_dir, "tokenizer.json"))
        return src.tokenizer_file
    _warn("no tokenizer found (no base model directory with one, no manifest.json naming the shards' "
          "tokenizer.json); AutoTokenizer will not load the export: pass --tokenizer to trainer.export")
    return None


def export_hf(sd: dict[str, torch.Tensor], conf: LlamaConfig, out_dir: str, dtype: str = "bfloat16",
              src: TokenizerSource | None = None) -> None:
    """Write a directory that ``AutoModelForCausalLM`` and ``AutoTokenizer`` load."""
    src = src or TokenizerSource()
    os.makedirs(out_dir, exist_ok=True)
    tensors = {}
    for k, v in sd.items():
        if conf.tie_word_embeddings and k == "lm_head.weight":
            continue  # shared with embed_tokens; safetensors refuses aliases
        tensors[k] = v.detach().to("cpu", DTYPES[dtype]).contiguous()
    conf = LlamaConfig.from_dict(conf.to_dict())
    ids = special_ids(conf, src)
    for k, v in ids.items():
        setattr(conf, k, v)
    conf.dtype = dtype
    conf.architectures = ["LlamaForCausalLM"]
    conf.use_cache = True  # training turns the KV cache off; generation wants it
    conf.save_pretrained(out_dir)
    save_file(tensors, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})

    base_gen = os.path.join(src.base_dir or "", "generation_config.json")
    gen = (GenerationConfig.from_pretrained(src.base_dir) if src.base_dir and os.path.isfile(base_gen)
           else GenerationConfig.from_model_config(conf))
    for k, v in ids.items():
        setattr(gen, k, v)
    gen.save_pretrained(out_dir)
    write_tokenizer(out_dir, src, ids)
