"""Classify + the medical DomainSubset on FnApiRunner with the shipped models: scores added in
batches (including the partial last batch), nothing dropped by classify, the subset's share and
one evidence row per page emitted."""
from __future__ import annotations

import glob
import json
import pathlib
import tempfile

import apache_beam as beam

from classifiers.ft import Scorer
from tests.conftest import beam_args
from transforms.classify import EDU, MEDICAL, WIKI, Classify, ClassifyConfig
from transforms.subset import DomainSubset, SubsetConfig
from transforms.stage import ERRORS, KEPT, REJECTED

DATA = pathlib.Path(__file__).parent.parent / "data" / "classifiers"


def test_classify_and_medical_subset():
    texts = [json.loads(x)["text"] for x in open(DATA / "edu_labels.jsonl", encoding="utf-8")][:45]
    recs = [{"id": f"p{i}", "text": t} for i, t in enumerate(texts)]
    cfg = ClassifyConfig(models=(WIKI, EDU, MEDICAL), batch_size=8)  # 45 = 5 full batches + 5
    with tempfile.TemporaryDirectory() as d:
        with beam.Pipeline(argv=beam_args()) as p:
            c = p | beam.Create(recs) | Classify(cfg)
            c[KEPT] | "j" >> beam.Map(json.dumps) | "w" >> beam.io.WriteToText(f"{d}/scored")
            c[ERRORS] | "je" >> beam.Map(json.dumps) | "we" >> beam.io.WriteToText(f"{d}/errors")
            m = c[KEPT] | DomainSubset(SubsetConfig(min_score=0.5, evidence=True))
            m[KEPT] | "mk" >> beam.Map(lambda r: r["id"]) | "wm" >> beam.io.WriteToText(f"{d}/kmed")
            m[REJECTED] | "mr" >> beam.Map(lambda r: r["reason"]) | "wmr" >> beam.io.WriteToText(f"{d}/medrej")
            m["share"] | "ms" >> beam.Map(json.dumps) | "wms" >> beam.io.WriteToText(f"{d}/share")
            m["evidence"] | "me" >> beam.Map(json.dumps) | "wme" >> beam.io.WriteToText(f"{d}/evidence")
        read = lambda name: [x.rstrip("\n") for f in glob.glob(f"{d}/{name}*") for x in open(f)]
        scored = {r["id"]: r for r in map(json.loads, read("scored"))}
        assert not read("errors")
        med, medrej = set(read("kmed")), read("medrej")
        share = json.loads(read("share")[0])
        evidence = {r["id"]: r for r in map(json.loads, read("evidence"))}
    assert len(scored) == 45
    direct = Scorer("edu.ftz").score_batch(texts)
    for i, s in enumerate(direct):  # the stage's score is the bare model's score
        assert abs(scored[f"p{i}"]["edu_score"] - s) < 1e-6
        assert 0 <= scored[f"p{i}"]["wiki_score"] <= 1
    assert med == {k for k, r in scored.items() if r["medical_score"] >= 0.5}
    assert set(medrej) <= {"medical_below_threshold_v1"} and len(med) + len(medrej) == 45
    assert share["pages_in"] == 45 and share["pages_kept"] == len(med)
    assert len(evidence) == 45 and {k for k, r in evidence.items() if r["selected"]} == med
    assert all(r["score"] == scored[k]["medical_score"] for k, r in evidence.items())
    assert Classify(cfg).columns.keys() == {"wiki_score", "edu_score", "medical_score"}
