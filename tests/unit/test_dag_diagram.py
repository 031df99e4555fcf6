"""pipeline/dag.py's diagram says, per recipe, the stages that recipe runs, in its order."""
from __future__ import annotations

import re

import pytest

from pipeline import dag, recipes

_LINE = re.compile(r"^    (\w+):\s+(.*)$")
_CONTINUED = re.compile(r"^\s+→ (.*)$")


def diagram() -> dict[str, list[str]]:
    """``{recipe: [node, ...]}`` from the module docstring's diagram block."""
    out: dict[str, list[str]] = {}
    current = None
    for line in dag.__doc__.splitlines():
        m = _LINE.match(line)
        if m:
            current = m.group(1)
            out[current] = m.group(2).split(" → ")
        elif current and _CONTINUED.match(line):
            out[current] += _CONTINUED.match(line).group(1).split(" → ")
        else:
            current = None
    return {k: [n.strip() for n in v] for k, v in out.items()}


def test_the_diagram_has_a_line_per_recipe():
    assert sorted(diagram()) == sorted(recipes.RECIPES)


@pytest.mark.parametrize("name", sorted(recipes.RECIPES))
def test_the_diagram_matches_the_recipe(name):
    cfg = recipes.get(name)
    stages = [dag.STAGES[s](cfg).label for s in cfg.stages]
    spread = cfg.stages.index(dag.SPREAD_AFTER) + 1 if dag.SPREAD_AFTER in cfg.stages else None
    if spread is not None:
        stages.insert(spread, "(spread)")
    assert diagram()[name] == ["WARC files", "ReadWarc", *stages, "Parquet + report"]
