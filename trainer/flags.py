"""The train command line: ``--config NAME --section.key VALUE`` flags, the help text, the list
of flags.

Command lines override config fields (:mod:`trainer.config`) with dotted flags,
``--train.steps 30``.  All flags carry a section prefix on purpose: torchrun
parses its own options with argparse prefix matching, so a script flag such as
``--node`` or ``--nproc`` could be mistaken for one of torchrun's when placed
before the module name.
"""
from __future__ import annotations

import dataclasses

from trainer.config import RECIPES, JobConfig, load


class UsageError(ValueError):
    """A command-line mistake: the train CLI prints it as one line and exits with status 2."""


HELP_FLAGS = ("-h", "--help")


def parse_cli(argv: list[str]) -> tuple[str, dict[str, str]]:
    """``--config NAME --sec.key value`` (or ``--sec.key=value``).

    ``-h``/``--help`` is returned as the override ``{"help": ""}`` so that the caller can list
    the keys of the chosen recipe (``--config`` may come before or after it)."""
    config = "tiny"
    overrides: dict[str, str] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in HELP_FLAGS:
            overrides["help"] = ""
            i += 1
            continue
        if not arg.startswith("--"):
            raise UsageError(f"unexpected argument {arg!r} (flags are --section.key VALUE)")
        key, eq, value = arg[2:].partition("=")
        if not eq:
            if i + 1 >= len(argv) or argv[i + 1] in HELP_FLAGS:
                raise UsageError(f"missing value for {arg}")
            value = argv[i + 1]
            i += 1
        i += 1
        if key == "config":
            config = value
        else:
            overrides[key] = value
    return config, overrides


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n\n")[0].replace("\n", " ").strip()


def help_text(config: str = "tiny") -> str:
    """Every dotted key with its type and its value in recipe ``config`` (the defaults a run gets)."""
    cfg = load(config) if config in RECIPES or config.endswith(".json") else JobConfig()
    lines = [
        "usage: [torchrun ...] python -m trainer.train [--config RECIPE|job_config.json] [--section.key VALUE ...]",
        "",
        "Continued pre-training with FSDP2 (runbooks/trainer.md). Every field of the config is a flag;",
        f"defaults shown are those of --config {config} (recipes: {', '.join(RECIPES)}).",
        "",
        f"  {'-h, --help':<34} this list",
        f"  {'--config NAME|FILE':<34} a recipe or a JSON file written from JobConfig.to_dict() (default: tiny)",
    ]
    for f in dataclasses.fields(cfg):
        sub = getattr(cfg, f.name)
        if not dataclasses.is_dataclass(sub):
            lines.append(f"  {'--' + f.name:<34} {str(f.type):<12} (default: {getattr(cfg, f.name)!r})")
            continue
        lines += ["", f"{f.name}: {_first_line(type(sub).__doc__)}"]
        for g in dataclasses.fields(sub):
            flag = f"--{f.name}.{g.name}"
            lines.append(f"  {flag:<34} {str(g.type):<12} (default: {getattr(sub, g.name)!r})")
    return "\n".join(lines) + "\n"
