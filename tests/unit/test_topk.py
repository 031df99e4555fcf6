"""Top-k% pure logic: rank keys with deterministic tie-breaks, band bounds from quantiles."""
from __future__ import annotations

import math

from transforms.topk import R_ABOVE, R_BELOW, TopKConfig, bounds, decide, rank_key, tiebreak


def test_rank_key_ties_and_missing():
    a, b = {"id": "a", "s": 1.0}, {"id": "b", "s": 1.0}
    assert rank_key(a, "s")[0] == rank_key(b, "s")[0] and rank_key(a, "s") != rank_key(b, "s")
    assert rank_key(a, "s") == (1.0, tiebreak(a))  # stable: a hash of the id, not of the run
    assert rank_key({"id": "x"}, "s")[0] == -math.inf
    assert rank_key({"id": "x", "s": float("nan")}, "s")[0] == -math.inf
    assert rank_key({"id": "x", "s": "bad"}, "s")[0] == -math.inf


def test_bounds_and_decide():
    qs = [(i / 10, "") for i in range(11)]  # 0.0 .. 1.0, 11 quantiles
    lo, hi = bounds(qs, TopKConfig(top_to=0.1))
    assert lo == (0.9, "") and hi is None
    assert decide((0.95, "x"), lo, hi) is None and decide((0.85, "x"), lo, hi) == R_BELOW
    lo, hi = bounds(qs, TopKConfig(top_from=0.1, top_to=0.3))
    assert lo == (0.7, "") and hi == (0.9, "")
    assert decide((0.9, ""), lo, hi) == R_ABOVE and decide((0.7, ""), lo, hi) is None
    assert bounds([], TopKConfig()) == (None, None) and decide((0.0, ""), None, None) is None
    assert bounds(qs, TopKConfig(top_from=0.0, top_to=1.0)) == (None, None)
