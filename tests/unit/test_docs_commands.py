"""The commands README.md and runbooks/ document, taken from the Markdown itself: every flag they
use is one the command's ``--help`` lists (so a renamed or mistyped flag in the docs fails here),
every trainer command line parses into a valid config, and the documented commands that run
offline in seconds are run as written (the Dataflow dry run, the 64-rank mesh dry run, the cost
model on the committed results)."""
from __future__ import annotations

import contextlib
import functools
import glob
import io
import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "runbooks").rglob("*.md"))]
ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")


def _blocks(text: str) -> list[str]:
    """Code: fenced blocks, 4-space indented blocks and inline spans (which may wrap lines)."""
    out = []
    for fenced in re.findall(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M):
        out.append(fenced)
    text_wo_fences = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    block: list[str] = []
    for line in text_wo_fences.splitlines() + [""]:
        if line.startswith("    ") and not line.lstrip().startswith(("- ", "* ", "|")):
            block.append(line[4:])
        elif block:
            out.append("\n".join(block))
            block = []
    out += [" ".join(span.split()) for span in re.findall(r"(?<!`)`([^`]+)`(?!`)", text_wo_fences)]
    return out


def _commands(block: str) -> list[str]:
    lines, current = [], ""
    for raw in block.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        lines.append(current + line)
        current = ""
    if current:
        lines.append(current)
    return [ln.strip() for ln in lines if re.search(r"(^|\s)(python -m |torchrun |swallow-corpus )", ln)]


def documented_commands() -> list[tuple[str, list[str]]]:
    """``(where, words)`` of every documented command of ours; env assignments kept in front."""
    found, seen = [], set()
    for doc in DOCS:
        for block in _blocks(doc.read_text()):
            for cmd in _commands(block):
                try:
                    words = shlex.split(cmd, comments=True)
                except ValueError:
                    continue
                words = [w for w in words if w != "&"]
                key = tuple(words)
                if key not in seen and _program(words)[0]:
                    seen.add(key)
                    found.append((f"{doc.relative_to(ROOT)}: {cmd[:60]}", words))
    return found


def _program(words: list[str]) -> tuple[str | None, list[str]]:
    """(command name, its arguments): ``pipeline run``, ``trainer.train``, ``torchrun``, ``bench``."""
    i = 0
    while i < len(words) and ENV_ASSIGNMENT.match(words[i]):
        i += 1
    w = words[i:]
    if not w:
        return None, []
    if w[0] == "swallow-corpus" and len(w) > 1:
        return f"pipeline {w[1]}", w[2:]
    if w[0] == "torchrun":
        return "torchrun", w[1:]
    if w[0] == "python" and len(w) > 2 and w[1] == "-m":
        module = w[2]
        if module == "pipeline" and len(w) > 3:
            return f"pipeline {w[3]}", w[4:]
        if module.startswith(("trainer.", "bench")):
            return module, w[3:]
    return None, []


def _capture(fn, argv) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            fn(argv)
        except SystemExit as e:
            assert e.code in (0, None), f"--help exited {e.code}"
    return buf.getvalue()


@functools.lru_cache(maxsize=None)
def help_text(name: str) -> str:
    from pipeline import argv as pargv
    from pipeline.cli import main as pipeline_main

    if name == "pipeline run":
        return _capture(pipeline_main, ["run", "--help"]) + pargv.beam_help()
    if name in ("pipeline refresh", "pipeline index", "pipeline evals-index"):
        extra = pargv.beam_help() if name == "pipeline refresh" else ""
        return _capture(pipeline_main, [name.split()[1], "--help"]) + extra
    if name == "trainer.train":
        from trainer.flags import help_text as train_help

        return train_help()
    if name == "torchrun":
        from torch.distributed.run import get_args_parser

        return " ".join(s for a in get_args_parser()._actions for s in a.option_strings)
    if name == "bench":  # the bench extra: scripts/test.sh installs it
        from bench.__main__ import main as bench_main

        return _capture(bench_main, ["--help"])
    import importlib

    return _capture(importlib.import_module(name).main, ["--help"])


def _flags(args: list[str]) -> list[str]:
    return [w.strip("[]").split("=", 1)[0] for w in args if w.strip("[").startswith("--")]


COMMANDS = documented_commands()


def test_the_docs_document_commands():
    names = {_program(w)[0] for _, w in COMMANDS}
    assert {"pipeline run", "pipeline refresh", "pipeline index", "trainer.tokenize", "trainer.train",
            "torchrun", "trainer.export", "trainer.dryrun", "trainer.train_tokenizer"} <= names, names


@pytest.mark.parametrize("where, words", COMMANDS, ids=[w for w, _ in COMMANDS])
def test_documented_flags_exist(where, words):
    name, args = _program(words)
    if name == "torchrun":  # torchrun's flags, then the trainer's after -m trainer.train
        m = args.index("-m") if "-m" in args else len(args)
        missing = [f for f in _flags(args[:m]) if not re.search(rf"(^|\s){re.escape(f)}(\s|$)", help_text(name))]
        assert not missing, f"{where}: torchrun has no {missing}"
        if m < len(args) and args[m + 1] == "trainer.train":
            name, args = "trainer.train", args[m + 2:]
        else:
            return
    text = help_text(name)
    missing = [f for f in _flags(args) if not re.search(rf"{re.escape(f)}(?![\w-])", text)]
    assert not missing, f"{where}: `{name} --help` lists no {missing}"


def _trainer_lines():
    for where, words in COMMANDS:
        name, args = _program(words)
        if name == "torchrun" and "trainer.train" in args:
            args = args[args.index("trainer.train") + 1:]
        elif name != "trainer.train":
            continue
        if "..." not in args and args:
            yield where, args


@pytest.mark.parametrize("where, args", list(_trainer_lines()), ids=[w for w, _ in _trainer_lines()])
def test_documented_trainer_command_lines_make_a_valid_config(where, args):
    from trainer import config as C
    from trainer.flags import parse_cli

    name, overrides = parse_cli(args)
    overrides.pop("help", None)
    C.load(name, overrides)


# --------------------------------------------------------------- the offline ones, run as written
def _runnable(words: list[str]) -> bool:
    """Offline and cheap: a Dataflow dry run, the mesh dry run, the cost model on files that exist."""
    name, args = _program(words)
    if "..." in words:
        return False
    if name == "pipeline run":
        return "--dry_run=True" in args
    if name == "trainer.dryrun":
        return True
    if name == "bench":
        return args[:1] == ["cost"] and len(args) > 1 and all((ROOT / a).is_file() for a in args[1:])
    return False


RUNNABLE = [(w, words) for w, words in COMMANDS if _runnable(words)]


def test_the_offline_commands_are_found():
    names = [_program(words)[0] for _, words in RUNNABLE]
    assert "pipeline run" in names and "trainer.dryrun" in names, names


@pytest.mark.parametrize("where, words", RUNNABLE, ids=[w for w, _ in RUNNABLE])
def test_documented_offline_command_runs_as_written(where, words):
    name, _ = _program(words)
    if name == "pipeline run":
        pytest.importorskip("apitools", reason="the Dataflow dry run needs the gcp extra")
    env = dict(os.environ)
    while ENV_ASSIGNMENT.match(words[0]):
        k, v = words.pop(0).split("=", 1)
        env[k] = v
    assert words[0] == "python"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if any("*" in w and not w.startswith("gs://") and "://" not in w for w in words):
        assert any(glob.glob(str(ROOT / w)) for w in words if "*" in w and "://" not in w), "documented glob matches nothing"
    proc = subprocess.run([sys.executable, *words[1:]], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"{where}: rc {proc.returncode}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr
    if name == "pipeline run":  # a dry run ends with its one-line summary, and nothing else
        last = proc.stdout.strip().splitlines()[-1]
        assert last.startswith("dry run: DataflowRunner translated job") and "nothing was submitted" in last
        assert "files 0/" not in proc.stderr  # no progress lines for a job that does not run
