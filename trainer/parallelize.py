"""Apply activation checkpointing, compile and FSDP2 to a Llama model.

Read top-down: :func:`parallelize` is the whole recipe, the helpers below it
are one concern each, in the order they must be applied (AC and compile wrap
a block's forward, so they come before FSDP hooks the block).
"""
from __future__ import annotations

import torch
from torch.distributed.device_mesh import DeviceMesh, init_device_mesh
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
from transformers import LlamaForCausalLM

from trainer.config import ParallelConfig
from trainer.model import DTYPES

MESH_DIMS = ("dp_replicate", "dp_shard")


def build_mesh(device_type: str, world_size: int, pcfg: ParallelConfig) -> DeviceMesh:
    """2-D ``(dp_replicate, dp_shard)`` mesh; replicate-major so that a
    shard group is a run of consecutive ranks, i.e. the GPUs of one node."""
    replicate = pcfg.dp_replicate
    shard = pcfg.dp_shard if pcfg.dp_shard > 0 else world_size // replicate
    if replicate * shard != world_size:
        raise ValueError(f"dp_replicate {replicate} x dp_shard {shard} != world size {world_size}")
    return init_device_mesh(device_type, (replicate, shard), mesh_dim_names=MESH_DIMS)


def parallelize(model: LlamaForCausalLM, mesh: DeviceMesh, pcfg: ParallelConfig) -> LlamaForCausalLM:
    if pcfg.activation_checkpointing:
        apply_activation_checkpointing(model)
    if pcfg.compile:
        apply_compile(model)
    apply_fsdp(model, mesh, pcfg)
    return model


def apply_activation_checkpointing(model: LlamaForCausalLM) -> None:
    # Non-reentrant: works with FSDP2's hooks and with inputs that do not
    # require grad (the first block's embeddings do, but the mask does not).
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5.x name
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)


def apply_compile(model: LlamaForCausalLM) -> None:
    # Per block rather than the whole model: blocks are identical, so one
    # compiled graph is reused by every layer, and FSDP's hooks stay outside
    # the graph.
    for block in model.model.layers:
        block.compile()


def apply_fsdp(model: LlamaForCausalLM, mesh: DeviceMesh, pcfg: ParallelConfig) -> None:
    mp_policy = MixedPrecisionPolicy(
        param_dtype=DTYPES[pcfg.param_dtype], reduce_dtype=DTYPES[pcfg.reduce_dtype]
    )
    # A 2-D mesh makes fully_shard do HSDP: shard on the last dim,
    # replicate (all-reduce gradients) on the first.  A 1-wide replicate dim
    # is dropped so that plain FSDP runs without a no-op all-reduce.
    dp_mesh = mesh if mesh.shape[0] > 1 else mesh["dp_shard"]
    layers = list(model.model.layers)
    for i, block in enumerate(layers):
        # The last block's parameters are needed again at once by the
        # backward, so freeing them after forward would only re-gather them.
        fully_shard(block, mesh=dp_mesh, mp_policy=mp_policy, reshard_after_forward=i < len(layers) - 1)
    fully_shard(model, mesh=dp_mesh, mp_policy=mp_policy)


def device_and_backend(choice: str = "auto") -> tuple[str, str]:
    """cuda/nccl when a GPU is present (or asked for), else cpu/gloo."""
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        return "cuda", "nccl"
    return "cpu", "gloo"
