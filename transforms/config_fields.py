"""Value checks shared by the stage configs: each config dataclass calls :func:`check` in its
``__post_init__`` (as torchtitan's ``config/`` components validate themselves), so a config that
would silently empty or disable a stage cannot be built, whether it comes from a recipe, a
``--config`` file, a command-line flag or a test. Types of ``--config`` values are checked where
JSON is read (:func:`pipeline.config_check.check_type`); ranges and choices here, once.
"""
from __future__ import annotations

import dataclasses
import math
import typing
from functools import lru_cache


class ConfigError(ValueError):
    """A config value that is refused: the message names the field."""


class FieldError(ConfigError):
    """A value a config's ``__post_init__`` refuses: ``DedupConfig.rows: ...`` for a config built
    directly, ``config field dedup.rows: ...`` once :meth:`under` gives the path from the
    pipeline config."""

    def __init__(self, owner: str, field: str, problem: str, path: str | None = None):
        self.owner, self.field, self.problem, self.path = owner, field, problem, path
        where = f"config field {path}{field}" if path is not None else f"{owner}.{field}"
        super().__init__(f"{where}: {problem}")

    def under(self, path: str) -> "FieldError":
        """The same error with the field's path from the pipeline config (``"dedup."``)."""
        return FieldError(self.owner, self.field, self.problem, path)


def refuse(cfg, field: str, problem: str) -> typing.NoReturn:
    raise FieldError(type(cfg).__name__, field, problem)


@lru_cache(maxsize=None)
def literal_choices(cls) -> dict[str, tuple]:
    """``{field: allowed values}`` for the fields of ``cls`` typed ``typing.Literal[...]``."""
    hints = typing.get_type_hints(cls)
    return {f.name: typing.get_args(hints[f.name]) for f in dataclasses.fields(cls)
            if typing.get_origin(hints[f.name]) is typing.Literal}


def check(cfg, *, at_least_one: tuple[str, ...] = (), unit_interval: tuple[str, ...] = (),
          ordered: tuple[tuple[str, str], ...] = ()) -> None:
    """Refuse the first bad value of ``cfg``: a ``Literal`` field outside its choices; any number
    not finite or below 0 (none of our counts, sizes, limits or scores is negative);
    ``at_least_one``: counts and sizes (0 turns a stage off or makes every page a duplicate);
    ``unit_interval``: fractions, shares and probability scores in [0, 1]; ``ordered``:
    ``(low, high)`` pairs with low <= high. ``None`` (off / no limit) passes every check."""
    choices = literal_choices(type(cfg))
    for f in dataclasses.fields(cfg):
        name, value = f.name, getattr(cfg, f.name)
        if name in choices and value not in choices[name]:
            refuse(cfg, name, f"must be one of {', '.join(map(str, choices[name]))}, got {value!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if isinstance(value, float) and not math.isfinite(value):
            refuse(cfg, name, f"must be a finite number, got {value!r}")
        if name in at_least_one and not (isinstance(value, int) and value >= 1):
            refuse(cfg, name, f"must be an integer >= 1, got {value!r}")
        if value < 0:
            refuse(cfg, name, f"must be >= 0, got {value!r}")
        if name in unit_interval and not 0 <= value <= 1:
            refuse(cfg, name, f"must be between 0 and 1, got {value!r}")
    for low, high in ordered:
        lo, hi = getattr(cfg, low), getattr(cfg, high)
        if lo is not None and hi is not None and lo > hi:
            refuse(cfg, low, f"must not exceed {high}: {low} ({lo!r}) > {high} ({hi!r})")
