"""Domain subsets: the rule's decisions and reason codes, config validation, the labels reader
and the precision/recall of an evaluation run (pure functions, no Beam)."""
from __future__ import annotations

import json

import pytest

from pipeline import recipes
from pipeline.subset_eval import load_labels, roc_auc, subset_eval
from transforms.warc_records import record_hash
from transforms.records import RecordError
from transforms.subset import SubsetConfig, SubsetRule, decide

CFG = SubsetConfig(name="medical", column="medical_score", min_score=0.3, floors=(("edu_score", 1.0),))


@pytest.mark.parametrize("record,reason", [
    ({"medical_score": 0.9, "edu_score": 2.0}, None),
    ({"medical_score": 0.3, "edu_score": 1.0}, None),                       # both bounds inclusive
    ({"medical_score": 0.29, "edu_score": 3.0}, "medical_below_threshold_v1"),
    ({"medical_score": 0.9, "edu_score": 0.5}, "medical_edu_score_floor_v1"),
    ({"medical_score": float("nan"), "edu_score": 3.0}, "medical_below_threshold_v1"),
])
def test_decide(record, reason):
    assert decide(record, CFG) == reason
    assert SubsetRule(CFG)(record) == (record, reason)


def test_missing_score_is_a_counted_error_kind():
    with pytest.raises(RecordError) as e:
        decide({"edu_score": 1.0}, CFG)
    assert e.value.kind == "medical_no_score"


@pytest.mark.parametrize("bad", [dict(name="Medical!"), dict(min_score="0.5"), dict(min_score=float("inf")),
                                 dict(floors=(("edu_score",),)), dict(floors=(("edu_score", "1"),)), dict(column="")])
def test_config_validates(bad):
    with pytest.raises(ValueError):
        SubsetConfig(**bad)


def test_reasons_listed():
    assert CFG.reasons == ("medical_below_threshold_v1", "medical_edu_score_floor_v1")


def test_medical_recipe_selects_from_the_quality_pool():
    v2, med = recipes.get("v2"), recipes.get("medical")
    pool = v2.stages[: v2.stages.index("classify")]
    assert "harmful" in pool and "topk" not in med.stages
    assert med.stages[: len(pool)] == pool
    assert med.stages[len(pool): len(pool) + 2] == ("classify", "subset")
    assert med.stages.index("dedup") < med.stages.index("quality") < med.stages.index("subset")
    assert med.quality == v2.quality and med.prefilter == v2.prefilter
    assert {c for c, _, _ in med.classify.models} >= {"medical_score", "edu_score"}
    assert med.subset.name == "medical" and med.subset.floors == ()
    floor = recipes.override(med, {"subset": {"floors": [["edu_score", 1.5]]}})
    assert floor.subset.floors == (("edu_score", 1.5),)


def test_medical_threshold_is_the_searched_one():
    """The recipe's threshold is the one the committed search chose for the shipped model."""
    from classifiers.ft import meta_for, model_path

    meta = meta_for(model_path("medical.ftz"))
    assert recipes.MEDICAL_THRESHOLD == meta["threshold"]
    assert recipes.get("medical").subset.min_score == recipes.MEDICAL_THRESHOLD


def test_labels_formats(tmp_path):
    tsv = tmp_path / "sites.tsv"
    tsv.write_text("warc_file\trecord_id\turl\thost\tsite\tkind\n"
                   "a\t<urn:uuid:1>\thttp://a/\ta\ts\tmedical\n"
                   "a\t<urn:uuid:2>\thttp://b/\tb\ts\tother\n", encoding="utf-8")
    assert load_labels(str(tsv), "medical") == {"id:" + record_hash("<urn:uuid:1>"): 1,
                                                "id:" + record_hash("<urn:uuid:2>"): 0}
    js = tmp_path / "l.jsonl"
    js.write_text(json.dumps({"url": "http://c/", "medical": 1}) + "\n" + json.dumps({"id": "x", "medical": 0}) + "\n")
    assert load_labels(str(js), "medical") == {"url:http://c/": 1, "id:x": 0}
    bad = tmp_path / "bad.tsv"
    bad.write_text("url\tscore\nhttp://a/\t1\n")
    with pytest.raises(ValueError, match="column"):
        load_labels(str(bad), "medical")


def test_subset_eval_counts(tmp_path):
    out = tmp_path / "run"
    (out / "_stats").mkdir(parents=True)
    ev = [{"id": "a", "url": "u1", "score": 0.9, "selected": True},    # tp
          {"id": "b", "url": "u2", "score": 0.8, "selected": True},    # fp
          {"id": "c", "url": "u3", "score": 0.1, "selected": False},   # fn
          {"id": "d", "url": "u4", "score": 0.05, "selected": False},  # tn
          {"id": "e", "url": "u5", "score": 0.5, "selected": True}]    # unlabelled: not counted
    (out / "_stats" / "subset_evidence.jsonl").write_text("\n".join(map(json.dumps, ev)) + "\n")
    labels = tmp_path / "l.jsonl"
    labels.write_text("\n".join(json.dumps({"id": i, "medical": y}) for i, y in
                                (("a", 1), ("b", 0), ("c", 1), ("d", 0), ("z", 1))) + "\n")
    r = subset_eval(str(out), str(labels), SubsetConfig())
    assert (r["tp"], r["fp"], r["fn"], r["pages_labelled"], r["pages_seen"]) == (1, 1, 1, 4, 5)
    assert r["precision"] == 0.5 and r["recall"] == 0.5 and r["roc_auc"] == 0.75


def test_roc_auc_matches_sklearn():
    import random

    from sklearn.metrics import roc_auc_score

    rng = random.Random(0)
    for _ in range(20):
        g = [rng.randint(0, 1) for _ in range(40)] + [0, 1]
        s = [round(rng.random(), 1) for _ in range(42)]
        assert roc_auc(g, s) == pytest.approx(roc_auc_score(g, s))


def test_a_subset_may_select_on_any_score_scale():
    """Generic: an educational-value subset selects on edu_score (0–3), not only on probabilities."""
    cfg = SubsetConfig(name="edu_high", column="edu_score", min_score=2.5)
    assert decide({"edu_score": 2.7}, cfg) is None
    assert decide({"edu_score": 2.0}, cfg) == "edu_high_below_threshold_v1"
    with pytest.raises(ValueError):
        SubsetConfig(min_score=-0.1)


def test_subset_labels_without_a_subset_stage_is_one_line_rc_2(tmp_path, capsys):
    from pipeline.cli import main
    from tests.conftest import SAMPLE_WARCS

    rc = main(["run", "--input", SAMPLE_WARCS[0], "--output", str(tmp_path / "out"), "--recipe", "v1",
               "--subset_labels", str(tmp_path / "labels.tsv")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "has no subset stage" in err[0]
    assert not (tmp_path / "out").exists()  # refused before any work
