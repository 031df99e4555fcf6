"""Export any checkpoint to a Hugging Face directory, on one CPU process.

    python -m trainer.export --checkpoint /ckpt/run1 [--step 5000] --output /models/out

Reads ``hf_config.json`` written next to the snapshots and loads the model
part of the DCP snapshot into a plain (unsharded) state dict; DCP reshards
from whatever world size saved it.  No process group is needed.  The
tokenizer is found from ``job_config.json`` (the base model directory, else
the shards' ``manifest.json``); ``--tokenizer`` names it where those moved.
"""
from __future__ import annotations

import json
import os
import sys

import torch
import torch.distributed.checkpoint as dcp
from transformers import LlamaConfig

from trainer.checkpoint import step_dirs
from trainer.hf_export import TokenizerSource, export_hf, tokenizer_source


def load_model_state(folder: str, step: int = -1) -> tuple[dict[str, torch.Tensor], LlamaConfig, int]:
    found = step_dirs(folder)
    if not found:
        raise FileNotFoundError(f"no checkpoint in {folder}")
    step = step if step > 0 else max(found)
    conf = LlamaConfig.from_json_file(os.path.join(folder, "hf_config.json"))
    # The training model is built the same way, so its names and shapes
    # are the target layout; only the values come from the snapshot.
    from trainer.model import build_meta_model

    meta = build_meta_model(conf)
    sd = {k: torch.empty(v.shape, dtype=torch.float32) for k, v in meta.state_dict().items()}
    if conf.tie_word_embeddings:
        sd.pop("lm_head.weight", None)
    state = {"model_optim": {"model": sd}}
    from trainer.integrity import architecture, verify_checkpoint

    verify_checkpoint(found[step], architecture(conf))  # before DCP unpickles anything
    dcp.load(state, checkpoint_id=found[step], no_dist=True)
    return state["model_optim"]["model"], conf, step


def run_tokenizer_source(folder: str, tokenizer: str | None = None) -> TokenizerSource:
    """Where the run's tokenizer is, from the ``job_config.json`` the run wrote."""
    hf_path = data_path = None
    path = os.path.join(folder, "job_config.json")
    if os.path.isfile(path):
        with open(path) as fh:
            job = json.load(fh)
        hf_path = job.get("model", {}).get("hf_path")
        data_path = job.get("data", {}).get("path")
    return tokenizer_source(hf_path, data_path, tokenizer)


def main(argv: list[str] | None = None) -> int:
    from pipeline.argv import OneLineParser

    p = OneLineParser(prog="python -m trainer.export", description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, help="checkpoint folder (holding step-N dirs)")
    p.add_argument("--step", type=int, default=-1, help="step to export (default: latest)")
    p.add_argument("--output", required=True)
    p.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32", "float16"])
    p.add_argument("--tokenizer", default=None,
                   help="a HF directory or tokenizer.json to export with the model (default: the run's base model "
                        "directory, else the tokenizer named in its shards' manifest.json)")
    a = p.parse_args(argv)
    sd, conf, step = load_model_state(a.checkpoint, a.step)
    export_hf(sd, conf, a.output, a.dtype, run_tokenizer_source(a.checkpoint, a.tokenizer))
    print(f"exported step {step} to {a.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
