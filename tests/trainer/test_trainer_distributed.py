"""End-to-end CPU/gloo evidence for multi-process FSDP2 training (``trainer/train.py``,
``trainer/checkpoint.py``).

One uninterrupted 2-process run is the reference; every other layout must
reproduce its losses and final weights (bitwise where the world size is the
same, within 1e-6 where resharding changes the reduction order).
"""
import pytest

# The `trainer` extra (torch, tokenizers, transformers) is needed; say so
# in the summary rather than failing collection.
for _mod in ("torch", "tokenizers", "transformers"):
    pytest.importorskip(_mod)


import json
import shutil
import subprocess
import sys

import torch
from safetensors.torch import load_file

from trainer_helpers import REPO, free_port, read_log, run_env, torchrun, torchrun_cmd

STEPS = 30


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tiny_args):
    d = tmp_path_factory.mktemp("ref")
    torchrun(2, tiny_args + ["--checkpoint.folder", str(d / "ckpt"), "--log_file", str(d / "log.jsonl"),
                             "--checkpoint.export_dir", str(d / "hf"), "--train.peak_flops", "1e11"])
    losses, recs = read_log(d / "log.jsonl")
    return d, losses, recs


def _weights(path):
    return load_file(str(path / "model.safetensors"))


def _assert_same_weights(a, b, atol=0.0):
    assert sorted(a) == sorted(b)
    for k in a:
        if atol == 0.0:
            assert torch.equal(a[k], b[k]), k
        else:
            torch.testing.assert_close(a[k], b[k], rtol=0, atol=atol, msg=k)


def test_loss_falls_on_real_text(reference):
    _, losses, recs = reference
    assert sorted(losses) == list(range(1, STEPS + 1))
    first = sum(losses[s] for s in range(1, 4)) / 3
    last = sum(losses[s] for s in range(STEPS - 2, STEPS + 1)) / 3
    assert losses[1] == pytest.approx(7.6, abs=0.2)  # ~ln(2000): an untrained model
    assert last < first - 0.5, (first, last)
    rec = next(r for r in recs if r.get("step") == STEPS)
    for key in ("lr", "tokens_per_s", "data_share", "grad_norm", "step_time_s", "mfu"):
        assert rec[key] is not None and rec[key] >= 0
    assert 0 <= rec["data_share"] < 1 and 0 < rec["mfu"] < 1
    # The last step runs at the end of the cosine: min_lr.
    assert rec["lr"] == pytest.approx(3e-4, rel=1e-6)
    assert next(r for r in recs if r.get("step") == 5)["lr"] == pytest.approx(3e-3)  # end of warm-up
    start = next(r for r in recs if r.get("event") == "start")
    assert start["world_size"] == 2 and start["accum_steps"] == 2


def test_keep_last_and_exports(reference, tmp_path):
    d, _, _ = reference
    assert sorted(p.name for p in (d / "ckpt").glob("step-*")) == ["step-10", "step-20", "step-30"]
    # On-demand export from a checkpoint equals the end-of-run export, and
    # transformers loads it.
    out = tmp_path / "from_ckpt"
    subprocess.run([sys.executable, "-m", "trainer.export", "--checkpoint", str(d / "ckpt"),
                    "--output", str(out), "--dtype", "float32"], cwd=REPO, env=run_env(), check=True,
                   capture_output=True)
    _assert_same_weights(_weights(d / "hf"), _weights(out))
    from transformers import LlamaForCausalLM

    m = LlamaForCausalLM.from_pretrained(str(out))
    assert m.config.num_hidden_layers == 2
    torch.testing.assert_close(m.model.embed_tokens.weight, _weights(d / "hf")["model.embed_tokens.weight"])


def test_kill_and_resume_is_bitwise_identical(reference, tmp_path, tiny_args):
    d, ref_losses, _ = reference
    # Rank 0 SIGKILLs itself after step 15; torchrun restarts the group,
    # which resumes from step-10 and replays 11..15.
    proc = torchrun(2, tiny_args + ["--checkpoint.folder", str(tmp_path / "ckpt"),
                                    "--log_file", str(tmp_path / "log.jsonl"),
                                    "--checkpoint.export_dir", str(tmp_path / "hf"),
                                    "--fault.kill_at_step", "15"], max_restarts=1)
    losses, recs = read_log(tmp_path / "log.jsonl")
    starts = [r["step"] for r in recs if r.get("event") == "start"]
    assert starts == [0, 10], (starts, proc.stderr[-2000:])
    assert [r["step"] for r in recs if "loss" in r].count(15) == 2
    assert losses == ref_losses  # exact float equality, every step
    _assert_same_weights(_weights(d / "hf"), _weights(tmp_path / "hf"))


@pytest.mark.parametrize("world", [1, 4])
def test_resume_with_different_world_size(reference, tmp_path, tiny_args, world):
    d, ref_losses, _ = reference
    shutil.copytree(d / "ckpt" / "step-20", tmp_path / "ckpt" / "step-20")
    torchrun(world, tiny_args + ["--checkpoint.folder", str(tmp_path / "ckpt"),
                                 "--log_file", str(tmp_path / "log.jsonl"),
                                 "--checkpoint.export_dir", str(tmp_path / "hf")])
    losses, recs = read_log(tmp_path / "log.jsonl")
    start = next(r for r in recs if r.get("event") == "start")
    assert start["step"] == 20 and start["world_size"] == world
    assert start["accum_steps"] == 8 // (2 * world)
    assert sorted(losses) == list(range(21, STEPS + 1))
    for s in losses:
        assert abs(losses[s] - ref_losses[s]) <= 1e-6, (s, losses[s], ref_losses[s])
    _assert_same_weights(_weights(d / "hf"), _weights(tmp_path / "hf"), atol=1e-6)


def test_two_nodes_match_one_node(reference, tmp_path, tiny_args):
    """Two torchrun agents rendezvous over c10d as two 'nodes' of one
    process each; HSDP (replicate across nodes) and activation
    checkpointing on.  Same losses as one node with two processes."""
    _, ref_losses, _ = reference
    port = free_port()
    args = tiny_args + ["--log_file", str(tmp_path / "log.jsonl"), "--train.steps", str(STEPS),
                        "--parallel.dp_replicate", "2", "--parallel.activation_checkpointing", "true"]
    cmd = torchrun_cmd(1, args, nnodes=2, port=port, rdzv_id="twonodes")
    procs = [subprocess.Popen(cmd, cwd=REPO, env=run_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=240)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n".join(o[-3000:] for o in outs)
    losses, recs = read_log(tmp_path / "log.jsonl")
    start = next(r for r in recs if r.get("event") == "start")
    assert start["world_size"] == 2 and start["mesh"] == [2, 1]
    assert losses == ref_losses


def test_start_from_hf_checkpoint_loads_into_shards(reference, tmp_path, tiny_args):
    """``model.hf_path``: weights read from safetensors straight into the
    FSDP shards; zero steps then export must give back the same tensors."""
    d, _, _ = reference
    torchrun(2, tiny_args + ["--model.hf_path", str(d / "hf"), "--train.steps", "0",
                             "--checkpoint.export_dir", str(tmp_path / "hf")])
    _assert_same_weights(_weights(d / "hf"), _weights(tmp_path / "hf"))
    conf = json.loads((tmp_path / "hf" / "config.json").read_text())
    assert conf["architectures"] == ["LlamaForCausalLM"]


def test_dry_run_production_mesh():
    out = subprocess.run([sys.executable, "-m", "trainer.dryrun", "--config", "swallow_llama3_8b",
                          "--nodes", "8", "--gpus-per-node", "8", "--rank", "13", "--json"],
                         cwd=REPO, env=run_env(), check=True, capture_output=True, text=True).stdout
    rep = json.loads(out)
    assert rep["world_size"] == 64 and rep["mesh"] == [8, 8]
    assert rep["mesh_dims"] == ["dp_replicate", "dp_shard"]
    assert (rep["replicate_rank"], rep["shard_rank"]) == (1, 5)  # rank 13 = node 1, GPU 5
    p = rep["params"]
    assert len(p) == 32 * 9 + 3
    assert p["model.embed_tokens.weight"]["local"] == [128256 // 8, 4096]
    assert p["model.layers.31.self_attn.k_proj.weight"]["local"] == [1024 // 8, 4096]
    assert p["model.layers.0.mlp.down_proj.weight"]["local"] == [4096 // 8, 14336]
    assert p["model.norm.weight"]["local"] == [512]
    assert all(v["placements"] == ["R", "S(0)"] for v in p.values())
    assert 8.0e9 < rep["total_params"] < 8.1e9
    assert rep["local_params"] == pytest.approx(rep["total_params"] / 8, rel=1e-3)


def test_bf16_mixed_precision_tracks_fp32(reference, tmp_path, tiny_args):
    """The production policy (bf16 params for compute, fp32 reduction and
    fp32 master weights) on gloo: same curve as fp32 to bf16 accuracy."""
    _, ref_losses, _ = reference
    torchrun(2, tiny_args + ["--parallel.param_dtype", "bfloat16", "--log_file", str(tmp_path / "log.jsonl"),
                             "--train.steps", str(STEPS), "--checkpoint.export_dir", str(tmp_path / "hf")])
    losses, _ = read_log(tmp_path / "log.jsonl")
    assert losses != ref_losses  # bf16 compute really happened
    for s in losses:
        assert abs(losses[s] - ref_losses[s]) < 0.02, (s, losses[s], ref_losses[s])
    # Master weights stay fp32: updates smaller than a bf16 ulp survive.
    w = _weights(tmp_path / "hf")["model.layers.0.mlp.up_proj.weight"]
    assert w.dtype == torch.float32 and not torch.equal(w.to(torch.bfloat16).float(), w)
