"""Decontaminate and AnonymizePII on FnApiRunner: the three outputs, the statistics row each
stage adds to the report, and conservation (every page leaves in exactly one output)."""
import json

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from pipeline.evals_index import build_file
from tests.conftest import DATA
from transforms import evals, stages
from transforms.decontaminate import R_ITEM, DecontaminateConfig
from transforms.pii import PIIConfig
from transforms.stage import ERRORS, KEPT, REJECTED

CLEAN = json.loads((DATA / "ja_texts.jsonl").read_text(encoding="utf-8").splitlines()[0])["text"]
ROWS = {r["id"]: r for r in evals.iter_items(str(DATA / "evals"))}


def _pages():
    return [
        {"id": "clean", "text": CLEAN},
        {"id": "item", "text": CLEAN[:200] + ROWS["f1p0q0"]["text"]},
        {"id": "jnli", "text": ROWS["f0"]["premise"] + ROWS["f0"]["hypothesis"] + CLEAN[:200]},
        {"id": "passage", "text": CLEAN[:200] + ROWS["fx-000-00-000"]["context"]},
        {"id": "bad", "text": None},
    ]


def test_decontaminate(test_pipeline, tmp_path):
    index = str(tmp_path / "ix.npz")
    build_file(str(DATA / "evals"), index)
    with test_pipeline as p:
        out = p | beam.Create(_pages()) | stages.Decontaminate(DecontaminateConfig(index=index))
        assert_that(out[KEPT] | beam.Map(lambda r: (r["id"], r["eval_passage"])),
                    equal_to([("clean", None), ("passage", "jaquad/fx-000-00-000"), ("bad", None)]), label="kept")
        assert_that(out[REJECTED] | beam.Map(lambda r: (r["id"], r["stage"], r["reason"], r["eval_suite"], r["eval_item"])),
                    equal_to([("item", "decontaminate", R_ITEM, "jsquad", "f1p0q0"),
                              ("jnli", "decontaminate", R_ITEM, "jnli", "f0")]), label="rejected")
        assert_that(out[ERRORS], equal_to([]), label="errors")
        assert_that(out["matches"] | beam.Map(lambda r: (r["status"], r["counts"], r["total"])),
                    equal_to([("applied", {"eval_contamination_v1/jnli": 1, "eval_contamination_v1/jsquad": 1,
                                           "eval_passage_v1/jaquad": 1}, 3)]), label="matches")


def test_decontaminate_without_index_is_skipped(test_pipeline):
    with test_pipeline as p:
        out = p | beam.Create(_pages()) | stages.Decontaminate(DecontaminateConfig())
        assert_that(out[KEPT] | beam.Map(lambda r: r["id"]), equal_to([r["id"] for r in _pages()]), label="kept")
        assert_that(out[REJECTED], equal_to([]), label="rejected")
        assert_that(out["matches"] | beam.Map(lambda r: r["status"]), equal_to(["skipped"]), label="matches")


def test_anonymize_pii(test_pipeline):
    pages = [{"id": "a", "text": "連絡先 info@tanaka.jp / 090-1234-5678"},
             {"id": "b", "text": "サーバー 133.242.10.3 と 2606:4700:4700::1111"},
             {"id": "c", "text": CLEAN}, {"id": "d", "text": 5}]
    cfg = PIIConfig(phones=True)
    with test_pipeline as p:
        out = p | beam.Create(pages) | stages.AnonymizePII(cfg)
        assert_that(out[KEPT] | beam.Map(lambda r: (r["id"], r["pii_email"], r["pii_ip"], r["pii_phone"])),
                    equal_to([("a", 1, 0, 1), ("b", 0, 2, 0), ("c", 0, 0, 0)]), label="kept")
        assert_that(out[ERRORS] | beam.Map(lambda r: (r["id"], r["kind"])),
                    equal_to([("d", "pii_exception")]), label="errors")  # conservation: 3 + 0 + 1 = 4
        assert_that(out["counts"] | beam.Map(lambda r: (r["counts"], r["enabled"])),
                    equal_to([({"pii_email_v1": 1, "pii_ip_v1": 2, "pii_phone_jp_v1": 1},
                               ["pii_email_v1", "pii_ip_v1", "pii_phone_jp_v1"])]), label="counts")
