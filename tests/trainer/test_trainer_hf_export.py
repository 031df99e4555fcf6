"""The HF export is a directory that ``AutoModelForCausalLM`` and ``AutoTokenizer`` both load, with
``generation_config.json`` and bos/eos/pad ids that agree with the token shards (tiny config, CPU)."""
import pytest

for _mod in ("torch", "tokenizers", "transformers"):
    pytest.importorskip(_mod)

import json
import subprocess
import sys

import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

from trainer import config as config_lib
from trainer import model as model_lib
from trainer.hf_export import TokenizerSource, export_hf, tokenizer_source
from trainer_helpers import REPO, TOKENIZER, run_env

TEXT = "日本語のウェブコーパスを作る。"


def _tiny_state():
    conf = model_lib.hf_config(config_lib.tiny().model)
    with model_lib.seeded_init_rows(conf, seed=0) as rows:
        sd = {k: rows(k, 0, v.shape[0]) for k, v in model_lib.build_meta_model(conf).state_dict().items()}
    return sd, conf


def _assert_loads_with_shard_ids(out, eos_id):
    model = AutoModelForCausalLM.from_pretrained(str(out))
    tok = AutoTokenizer.from_pretrained(str(out))
    gen = GenerationConfig.from_pretrained(str(out))
    conf = json.loads((out / "config.json").read_text())
    assert conf["eos_token_id"] == gen.eos_token_id == tok.eos_token_id == eos_id
    assert conf["bos_token_id"] == gen.bos_token_id == tok.bos_token_id
    assert conf["pad_token_id"] == gen.pad_token_id == tok.pad_token_id
    # The exported tokenizer encodes exactly as the one the shards were made with (no BOS added:
    # the shards have none).
    raw = Tokenizer.from_file(str(TOKENIZER))
    assert tok(TEXT, add_special_tokens=False)["input_ids"] == raw.encode(TEXT, add_special_tokens=False).ids
    ids = tok(TEXT, return_tensors="pt", add_special_tokens=False)
    new = model.generate(**ids, max_new_tokens=3, do_sample=False)
    assert new.shape[1] <= ids["input_ids"].shape[1] + 3
    return model, tok


def test_from_scratch_export_loads_with_shard_eos(tmp_path, tokens_dir):
    sd, conf = _tiny_state()
    manifest = json.loads((tokens_dir / "manifest.json").read_text())
    assert (conf.bos_token_id, conf.eos_token_id) == (1, 2) and manifest["eos_id"] == 0  # Llama defaults differ
    out = tmp_path / "hf"
    export_hf(sd, conf, str(out), "float32", tokenizer_source(None, str(tokens_dir)))
    assert {"config.json", "model.safetensors", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json"} <= {p.name for p in out.iterdir()}
    assert (out / "tokenizer.json").read_bytes() == TOKENIZER.read_bytes()  # the manifest's SHA-256
    model, tok = _assert_loads_with_shard_ids(out, manifest["eos_id"])
    # From scratch the shards hold only EOS between documents: bos, eos and pad are that id.
    assert model.config.bos_token_id == model.config.pad_token_id == 0 and tok.eos_token == "<|end_of_text|>"
    torch.testing.assert_close(model.model.embed_tokens.weight, sd["model.embed_tokens.weight"])


def test_base_model_tokenizer_and_generation_config_are_kept(tmp_path, tokens_dir, capsys):
    sd, conf = _tiny_state()
    base = tmp_path / "base"
    export_hf(sd, conf, str(base), "float32", tokenizer_source(None, str(tokens_dir)))
    # Mark the base directory's files, as a real base model's own settings would be.
    tc = json.loads((base / "tokenizer_config.json").read_text())
    tc["model_max_length"] = 4321
    (base / "tokenizer_config.json").write_text(json.dumps(tc))
    gen = json.loads((base / "generation_config.json").read_text())
    gen["temperature"], gen["do_sample"] = 0.6, True
    (base / "generation_config.json").write_text(json.dumps(gen))

    base_conf = model_lib.hf_config(config_lib.ModelConfig(hf_path=str(base)))
    out = tmp_path / "hf"
    export_hf(sd, base_conf, str(out), "float32", tokenizer_source(str(base), str(tokens_dir)))
    _, tok = _assert_loads_with_shard_ids(out, 0)
    assert tok.model_max_length == 4321
    g = GenerationConfig.from_pretrained(str(out))
    assert g.temperature == 0.6 and g.do_sample
    assert "warning" not in capsys.readouterr().err  # the base tokenizer is the shards' one


def test_a_base_tokenizer_other_than_the_shards_is_flagged(tmp_path, tokens_dir, capsys):
    sd, conf = _tiny_state()
    base = tmp_path / "base"
    export_hf(sd, conf, str(base), "float32", tokenizer_source(None, str(tokens_dir)))
    other = json.loads((base / "tokenizer.json").read_text())
    other["model"]["vocab"]["zzz-not-in-the-shards"] = len(other["model"]["vocab"]) + 10
    (base / "tokenizer.json").write_text(json.dumps(other))
    capsys.readouterr()
    export_hf(sd, conf, str(tmp_path / "hf"), "float32", tokenizer_source(str(base), str(tokens_dir)))
    assert "is not the tokenizer the shards were made with" in capsys.readouterr().err


def test_without_any_tokenizer_the_export_says_so(tmp_path, capsys):
    sd, conf = _tiny_state()
    export_hf(sd, conf, str(tmp_path / "hf"), "float32", TokenizerSource())
    assert "AutoTokenizer will not load" in capsys.readouterr().err
    assert (tmp_path / "hf" / "generation_config.json").is_file()


def test_train_then_export_cli_both_load(tmp_path, tokens_dir):
    """The end-of-run export and ``trainer.export`` from a checkpoint: the tokenizer is found
    through ``job_config.json`` -> the shards' manifest."""
    run = subprocess.run([sys.executable, "-m", "trainer.train", "--config", "tiny", "--data.path", str(tokens_dir),
                          "--train.steps", "1", "--checkpoint.interval", "1", "--checkpoint.folder",
                          str(tmp_path / "ckpt"), "--checkpoint.export_dir", str(tmp_path / "hf")],
                         cwd=REPO, env=run_env(), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    subprocess.run([sys.executable, "-m", "trainer.export", "--checkpoint", str(tmp_path / "ckpt"),
                    "--output", str(tmp_path / "from_ckpt"), "--dtype", "float32"],
                   cwd=REPO, env=run_env(), check=True, capture_output=True, timeout=300)
    for d in ("hf", "from_ckpt"):
        _assert_loads_with_shard_ids(tmp_path / d, 0)
