"""Types of the values a ``--config`` file sets, checked where the JSON is read: a value that
would silently destroy the output is a one-line error naming the field
(``config field quality.japanese.min_chars: must be an integer, got '400'``).

:func:`check_type`, called by ``recipes.override`` for every value a ``--config`` file sets: the
value must have the type of the recipe's value (``min_chars: "400"`` is refused, an integer
where a float is expected is accepted). Ranges and choices (counts and sizes >= 1, fractions in
[0, 1], ``Literal`` choices, min <= max) are each config's own ``__post_init__``
(:mod:`transforms.config_fields`), so a config built by a recipe, a flag or a test is held to them
too.
"""
from __future__ import annotations

from transforms.config_fields import ConfigError  # noqa: F401  (raised here and by every config)


def _kind(value) -> str:
    if isinstance(value, bool):
        return "a boolean (true/false)"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (tuple, list)):
        return "a list"
    return type(value).__name__


def check_type(path: str, current, value, nullable: bool = False):
    """``value`` for the field at ``path`` whose recipe value is ``current``, converted where safe
    (int → float, list → tuple); :class:`ConfigError` where the type differs. ``nullable``: the
    field is declared ``X | None`` (None means "off" or "no limit" there)."""
    ok = True
    if value is None and nullable:
        return value
    if current is None:  # optional fields (a path, a limit): a string, a number or null
        ok = value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool))
    elif isinstance(current, bool):
        ok = isinstance(value, bool)
    elif isinstance(current, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(current, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(current, str):
        ok = isinstance(value, str)
    elif isinstance(current, tuple):
        ok = isinstance(value, (list, tuple))
    if not ok:
        raise ConfigError(f"config field {path}: must be {_kind(current)}, got {value!r}")
    return value
