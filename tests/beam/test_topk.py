"""TopK on FnApiRunner: global quantile threshold, bands partition, ties broken deterministically.
All cases run in one pipeline (one start-up)."""
from __future__ import annotations

import glob
import json
import tempfile

import apache_beam as beam
import pytest

from tests.conftest import beam_args
from transforms.stage import KEPT, REJECTED
from transforms.topk import R_ABOVE, R_BELOW, TopK, TopKConfig

DISTINCT = [{"id": f"d{i}", "edu_score": i / 1000} for i in range(1000)]
TIES = [{"id": f"d{i}", "edu_score": 1.0 if i % 2 else 0.5} for i in range(400)]
MISSING = [{"id": f"d{i}", "edu_score": float(i)} for i in range(50)] + [{"id": "none"}]

CASES = {
    "distinct": (DISTINCT, TopKConfig()),
    "ties": (TIES, TopKConfig(top_to=0.1)),
    "ties_reversed": (list(reversed(TIES)), TopKConfig(top_to=0.1)),
    "ties_band": (TIES, TopKConfig(top_from=0.1, top_to=0.3)),
    "ties_rest": (TIES, TopKConfig(top_from=0.3, top_to=1.0)),
    "missing": (MISSING, TopKConfig(top_to=0.5)),
}


@pytest.fixture(scope="module")
def results():
    res = {}
    with tempfile.TemporaryDirectory() as d:
        with beam.Pipeline(argv=beam_args()) as p:
            for name, (records, cfg) in CASES.items():
                out = p | f"C_{name}" >> beam.Create(records) | f"T_{name}" >> TopK(cfg)
                (out[KEPT] | f"k_{name}" >> beam.Map(lambda r: json.dumps([r["id"]]))
                 | f"wk_{name}" >> beam.io.WriteToText(f"{d}/{name}.kept"))
                (out[REJECTED] | f"r_{name}" >> beam.Map(lambda r: json.dumps([r["id"], r["reason"], r["stage"]]))
                 | f"wr_{name}" >> beam.io.WriteToText(f"{d}/{name}.rej"))
        for name in CASES:
            kept = {json.loads(x)[0] for f in glob.glob(f"{d}/{name}.kept*") for x in open(f)}
            rej = [tuple(json.loads(x)) for f in glob.glob(f"{d}/{name}.rej*") for x in open(f)]
            res[name] = (kept, rej)
    return res


def test_top10_of_distinct_scores(results):
    kept, rejected = results["distinct"]
    assert 99 <= len(kept) <= 101
    assert len(kept) + len(rejected) == 1000
    assert min(int(k[1:]) for k in kept) >= 898  # the top scores, nothing else
    assert {r[1] for r in rejected} == {R_BELOW} and {r[2] for r in rejected} == {"topk"}


def test_ties_are_broken_deterministically(results):
    top, _ = results["ties"]
    assert top == results["ties_reversed"][0]  # same pages whatever the input order
    assert 38 <= len(top) <= 42 and all(int(k[1:]) % 2 for k in top)


def test_bands_partition(results):
    top, band, rest = results["ties"][0], results["ties_band"][0], results["ties_rest"][0]
    assert not (top & band) and not (band & rest) and not (top & rest)
    assert len(top | band | rest) == 400
    assert 76 <= len(band) <= 84
    assert R_ABOVE in {r[1] for r in results["ties_band"][1]}


def test_missing_scores_rank_last(results):
    kept, _ = results["missing"]
    assert "none" not in kept and "d49" in kept


def test_config_validates_band():
    with pytest.raises(ValueError):
        TopKConfig(top_from=0.3, top_to=0.1)
