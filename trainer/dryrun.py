"""Dry run of the production layout on one CPU, with a fake process group.

    python -m trainer.dryrun --config swallow_llama3_8b --nodes 8 --gpus-per-node 8

Builds the model on the meta device, builds the HSDP mesh for the whole
cluster as seen by one rank, applies :func:`trainer.parallelize.parallelize`
and reports each parameter's placement and local shard shape, plus the
per-GPU memory of parameters, gradients and AdamW state.  No collective is
run, so nothing is allocated and no GPU is needed; it catches a mesh that
does not divide the world, a parallelize() that breaks on the real
architecture, and sharding that would not fit.
"""
from __future__ import annotations

import dataclasses
import json
import sys

import torch
import torch.distributed as dist
from torch.distributed.tensor import DTensor
from torch.testing._internal.distributed.fake_pg import FakeStore

from trainer import config as config_lib
from trainer import model as model_lib
from trainer.parallelize import build_mesh, parallelize


def dry_run(cfg: config_lib.JobConfig, nodes: int, gpus_per_node: int, rank: int = 0) -> dict:
    world = nodes * gpus_per_node
    pcfg = cfg.parallel
    if pcfg.dp_replicate * max(pcfg.dp_shard, 1) != world:
        # Default production layout: shard inside a node, replicate across.
        pcfg = dataclasses.replace(pcfg, dp_replicate=nodes, dp_shard=gpus_per_node)
    dist.init_process_group("fake", store=FakeStore(), rank=rank, world_size=world)
    try:
        mesh = build_mesh("cpu", world, pcfg)
        conf = model_lib.hf_config(cfg.model)
        model = model_lib.build_meta_model(conf)
        parallelize(model, mesh, pcfg)
        params = {}
        local_numel = 0
        for name, p in model.named_parameters():
            assert isinstance(p, DTensor), f"{name} is not sharded"
            local = p.to_local()
            local_numel += local.numel()
            params[name] = {
                "global": list(p.shape),
                "local": list(local.shape),
                "placements": [str(pl) for pl in p.placements],
                "mesh": list(p.device_mesh.shape),
            }
        # fp32 master params + fp32 grads + two fp32 Adam moments.
        static_gib = local_numel * 4 * 4 / 2**30
        return {
            "world_size": world,
            "mesh": list(mesh.shape),
            "mesh_dims": list(mesh.mesh_dim_names or ()),
            "rank": rank,
            "shard_rank": mesh.get_local_rank("dp_shard"),
            "replicate_rank": mesh.get_local_rank("dp_replicate"),
            "total_params": sum(v["global"][0] * (v["global"][1] if len(v["global"]) > 1 else 1) for v in params.values()),
            "local_params": local_numel,
            "static_gib_per_device": static_gib,
            "params": params,
        }
    finally:
        dist.destroy_process_group()


def main(argv: list[str] | None = None) -> int:
    from pipeline.argv import OneLineParser

    p = OneLineParser(prog="python -m trainer.dryrun", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", default="swallow_llama3_8b")
    p.add_argument("--nodes", type=int, default=8)
    p.add_argument("--gpus-per-node", type=int, default=8)
    p.add_argument("--rank", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    a = p.parse_args(argv)
    torch.set_default_device("cpu")
    rep = dry_run(config_lib.load(a.config), a.nodes, a.gpus_per_node, a.rank)
    if a.json:
        print(json.dumps(rep, indent=1))
    else:
        print(f"world {rep['world_size']} mesh {rep['mesh']} {rep['mesh_dims']} rank {rep['rank']}")
        for name, v in rep["params"].items():
            if ".layers." in name and ".layers.0." not in name:
                continue
            print(f"  {name:55s} {str(v['global']):>16s} -> {str(v['local']):>14s} {v['placements']}")
        print(f"params {rep['total_params'] / 1e9:.2f}B, {rep['local_params'] / 1e6:.1f}M per device, "
              f"{rep['static_gib_per_device']:.1f} GiB params+grads+Adam per device (fp32)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
