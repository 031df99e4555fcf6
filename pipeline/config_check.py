"""Config validation before anything runs: a value that would silently destroy the output is a
one-line error naming the field (``dedup.rows: must be an integer >= 1, got 0``).

Two checks, as torchtitan's ``config/`` validates each component in ``__post_init__``:
- types (:func:`check_type`, called by ``recipes.override`` for every value a ``--config`` file
  sets): the value must have the type of the recipe's value (``min_chars: "400"`` is refused, an
  integer where a float is expected is accepted);
- ranges (:func:`validate`): counts and sizes that must be at least 1 (MinHash ``bands`` × ``rows``,
  shingle ``ngram``: 0 turns dedup off or makes every page a duplicate), byte limits > 0,
  fractions and scores in [0, 1], known modes, min ≤ max.
"""
from __future__ import annotations

import dataclasses
import math


class ConfigError(ValueError):
    """A config value that is refused: the message names the field."""


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


#: fields that are counts or sizes: 0 or less empties or disables a stage without a word
AT_LEAST_ONE = {
    "read.max_record_bytes", "index.batch_rows", "decode.meta_scan_bytes", "decode.binary_scan_bytes",
    "prefilter.scan_chars", "prefilter.head_bytes", "prefilter.max_title_chars", "prefilter.kana_window",
    "extract.max_html_chars", "langid.max_chars", "normalize.footer_window",
    "dedup.ngram", "dedup.bands", "dedup.rows", "dedup.max_rounds", "dedup.index_shards",
    "classify.batch_size", "topk.num_quantiles",
}
#: fractions, shares and probability scores
UNIT_INTERVAL_WORDS = ("frac", "share", "fraction", "cover", "ratio", "threshold", "min_score", "top_from", "top_to")
CHOICES = {"prefilter.mode": ("swallow", "kana", "both"), "extract.extractor": ("resiliparse", "trafilatura")}
MIN_MAX = [("quality.japanese.min_mean_sentence_len", "quality.japanese.max_mean_sentence_len"),
           ("topk.top_from", "topk.top_to")]


def _leaves(cfg, prefix=""):
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            yield from _leaves(value, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", value


def validate(cfg) -> None:
    """Raise :class:`ConfigError` for the first value out of its range."""
    leaves = dict(_leaves(cfg))
    for path, value in leaves.items():
        name = path.rsplit(".", 1)[-1]
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"config field {path}: must be a finite number, got {value!r}")
        if path in AT_LEAST_ONE and not (isinstance(value, int) and value >= 1):
            raise ConfigError(f"config field {path}: must be an integer >= 1, got {value!r}")
        if isinstance(value, (int, float)) and value < 0:
            raise ConfigError(f"config field {path}: must be >= 0, got {value!r}")
        if isinstance(value, float) and any(w in name for w in UNIT_INTERVAL_WORDS) and not 0 <= value <= 1:
            raise ConfigError(f"config field {path}: must be between 0 and 1, got {value!r}")
        if path in CHOICES and value not in CHOICES[path]:
            raise ConfigError(f"config field {path}: must be one of {', '.join(CHOICES[path])}, got {value!r}")
    for path in ("quality.repetition.top_ngram", "quality.repetition.dup_ngram"):
        for item in leaves.get(path, ()):
            if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], int)
                    and not isinstance(item[0], bool) and item[0] >= 1
                    and (item[1] is None or isinstance(item[1], (int, float)) and 0 <= item[1] <= 1)):
                raise ConfigError(f"config field {path}: items must be [n >= 1, fraction in 0..1 or null], got {item!r}")
    for low, high in MIN_MAX:
        if low in leaves and high in leaves and leaves[low] > leaves[high]:
            raise ConfigError(f"config fields {low} ({leaves[low]!r}) > {high} ({leaves[high]!r})")
