"""Recipes, overrides, and the launch pitfalls: script flags that torchrun's argparse prefix
matching could take for its own (``trainer/config.py``'s module docstring), the torch pin of the
``trainer`` extra (``setup.py``), and the flags of the Slurm and Kubernetes launch files
(``docker/slurm/trainer.sbatch``, ``docker/k8s/trainer-pytorchjob.yaml``)."""
import pytest

# The `trainer` extra (torch, tokenizers, transformers) is needed; say so
# in the summary rather than failing collection.
for _mod in ("torch", "tokenizers", "transformers"):
    pytest.importorskip(_mod)

import re


from trainer_helpers import REPO
from trainer import config as C
from trainer.flags import parse_cli
from trainer.train import lr_lambda


def test_swallow_recipe_values():
    cfg = C.swallow_llama3_8b()
    o = cfg.optimizer
    assert (o.lr, o.min_lr, o.warmup_steps, o.weight_decay, o.beta1, o.beta2) == (2.5e-5, 2.5e-6, 2000, 0.1, 0.9, 0.95)
    assert cfg.train.global_batch == 1024 and cfg.data.seq_len == 8192
    assert cfg.parallel.param_dtype == "bfloat16" and cfg.parallel.reduce_dtype == "float32"
    assert cfg.model.num_hidden_layers == 32 and cfg.model.vocab_size == 128256


def test_schedule_warmup_then_cosine_to_min():
    o = C.swallow_llama3_8b().optimizer
    f = lr_lambda(o, 10_000)
    assert f(0) == pytest.approx(1 / 2000)
    assert f(1999) == pytest.approx(1.0)
    assert f(9999) == pytest.approx(o.min_lr / o.lr)
    mid = 2000 + (10_000 - 2000) // 2
    assert f(mid - 1) == pytest.approx((1 + 0.1) / 2, rel=1e-3)


def test_overrides_are_typed_and_checked():
    cfg = C.load("tiny", {"train.steps": "7", "parallel.activation_checkpointing": "true",
                          "model.hf_path": "none", "optimizer.lr": "1e-4", "log_file": "x"})
    assert cfg.train.steps == 7 and cfg.parallel.activation_checkpointing is True
    assert cfg.model.hf_path is None and cfg.optimizer.lr == 1e-4 and cfg.log_file == "x"
    with pytest.raises(ValueError):
        C.load("tiny", {"train.stepz": "1"})
    with pytest.raises(dataclasses_error()):
        C.tiny().train.steps = 3  # frozen


def dataclasses_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


def test_config_json_roundtrip(tmp_path):
    import json

    cfg = C.swallow_llama3_8b()
    p = tmp_path / "c.json"
    p.write_text(json.dumps(cfg.to_dict()))
    assert C.load(str(p)) == cfg
    assert parse_cli(["--config", str(p), "--train.steps=3", "--data.path", "d"]) == (
        str(p), {"train.steps": "3", "data.path": "d"})


def test_script_flags_are_not_prefixes_of_torchrun_flags():
    from torch.distributed.run import get_args_parser

    theirs = [s for a in get_args_parser()._actions for s in a.option_strings if s.startswith("--")]
    ours = C.all_flags()
    assert "--train.steps" in ours
    clashes = [(o, t) for o in ours for t in theirs if t.startswith(o) or o.startswith(t)]
    assert not clashes


def test_setup_pins_torch_in_trainer_extra():
    text = (REPO / "setup.py").read_text()
    block = re.search(r'"trainer":\s*\[(.*?)\]', text, re.S).group(1)
    assert '"torch==2.13.0"' in block


def _trainer_flags_ok(args: list[str]) -> None:
    """Every trainer flag exists and every value converts to its type."""
    name, overrides = parse_cli(args)
    C.load(name, overrides)


def test_slurm_script_flags_are_valid():
    import shlex

    from torch.distributed.run import get_args_parser

    text = (REPO / "docker" / "slurm" / "trainer.sbatch").read_text()
    cmd = text[text.index("torchrun \\"):].replace("\\\n", " ")
    words = shlex.split(cmd, comments=True)
    words = [w for w in words if w != "$@"]  # user's extra flags
    subst = {"$SLURM_JOB_NUM_NODES": "8", "$GPUS_PER_NODE": "8", "$HEAD_NODE:$RDZV_PORT": "node0:29500",
             "$SLURM_JOB_ID": "1", "${MAX_RESTARTS:-3}": "3", "$RECIPE": "swallow_llama3_8b",
             "$LOG_DIR/train.jsonl": "x.jsonl"}
    for k, v in subst.items():
        words = [w.replace(k, v) for w in words]
    m = words.index("-m")
    ns = get_args_parser().parse_args(words[1:m] + ["-m", "trainer.train"])
    assert ns.rdzv_backend == "c10d" and ns.nnodes == "8" and ns.nproc_per_node == "8"
    assert words[m + 1] == "trainer.train"
    _trainer_flags_ok(words[m + 2:])


def test_k8s_manifest_flags_are_valid():
    yaml = pytest.importorskip("yaml")
    job = yaml.safe_load((REPO / "docker" / "k8s" / "trainer-pytorchjob.yaml").read_text())
    spec = job["spec"]
    assert job["kind"] == "PyTorchJob" and spec["elasticPolicy"]["rdzvBackend"] == "c10d"
    replicas = spec["pytorchReplicaSpecs"]
    nodes = replicas["Master"]["replicas"] + replicas["Worker"]["replicas"]
    args = replicas["Master"]["template"]["spec"]["containers"][0]["args"]
    assert args[:2] == ["-m", "trainer.train"]
    _trainer_flags_ok(args[2:])
    ov = parse_cli(args[2:])[1]
    assert int(ov["parallel.dp_replicate"]) == nodes
    assert int(ov["parallel.dp_shard"]) == int(spec["nprocPerNode"])
