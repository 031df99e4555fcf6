"""Golden v2 and medical runs on real pages.

- v2 on the sample crawl (tests/data/warc): counts per stage are checked in, the report invariant
  holds, the score columns are in the Parquet, the top-10% band is the configured one.
- medical on whole websites (tests/data/warc_sites: 45 pages of 3 medical and 4 other small
  sites, all on hosts the classifiers never saw in training or tuning), with the pages' labels by
  reading as ``--subset_labels``: the subset keeps pages, every kept page clears the recipe's
  threshold, the kept set and the report's precision/recall are the checked-in ones.

Regenerate with ``python tests/golden/test_v2.py`` (prints the funnels and the selection).
"""
from __future__ import annotations

import glob
import json
import pathlib

import pytest

from tests.conftest import DATA, SAMPLE_WARCS

GOLDEN = pathlib.Path(__file__).parent / "v2_counts.json"
SITES = DATA / "warc_sites"


def funnel(report: dict) -> dict:
    return {row["stage"]: {"pages_after": row["pages_after"], "by_reason": row["by_reason"]}
            for row in report["funnel"]}


def _run(out: str, recipe: str, inputs: str, *extra: str) -> dict:
    from pipeline.cli import run

    return run(["--input", inputs, "--output", out, "--recipe", recipe, "--runner=FnApiRunner",
                "--direct_num_workers=1", "--no_progress", *extra])


def _documents(out: pathlib.Path):
    import pyarrow.parquet as pq

    files = sorted(glob.glob(str(out / "documents" / "*.parquet")))
    return pq.read_table(files).to_pylist() if files else []


def _selection(out: pathlib.Path) -> dict:
    docs = _documents(out)
    return {d["url"]: round(d["medical_score"], 4) for d in sorted(docs, key=lambda d: d["url"])}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("golden_v2")
    v2 = _run(str(base / "v2"), "v2", SAMPLE_WARCS[0].rsplit("/", 1)[0] + "/*.warc.gz")
    med = _run(str(base / "medical"), "medical", str(SITES / "*.warc.gz"),
               "--subset_labels", str(SITES / "page_labels.tsv"))
    return {"v2": v2, "medical": med, "out": base}


def test_recipe_order():
    from pipeline import recipes

    v2 = recipes.get("v2").stages
    assert v2.index("extract") < v2.index("quality") < v2.index("classify") < v2.index("topk") < v2.index("normalize")
    assert recipes.get("v2").quality.japanese.max_katakana_frac is None
    assert recipes.get("v2").prefilter.mode == "both"
    v1 = recipes.get("v1").stages
    assert v1.index("harmful") < v1.index("hosts") < v1.index("normalize")


def test_config_file_overrides_new_fields(tmp_path):
    from pipeline import recipes

    f = tmp_path / "cfg.json"
    f.write_text(json.dumps({"topk": {"score": "wiki_score", "top_from": 0.1, "top_to": 0.3},
                             "hosts": {"ut1_parents": True, "max_ng_char_ratio": 0.01},
                             "classify": {"models": [["wiki_score", "wiki.ftz", "binary"]]},
                             "subset": {"min_score": 0.8, "floors": [["edu_score", 1.0]]}}))
    cfg = recipes.load("medical", str(f))
    assert (cfg.topk.score, cfg.topk.top_from, cfg.topk.top_to) == ("wiki_score", 0.1, 0.3)
    assert cfg.hosts.ut1_parents and cfg.hosts.max_ng_char_ratio == 0.01
    assert cfg.classify.models == (("wiki_score", "wiki.ftz", "binary"),)
    assert cfg.subset.min_score == 0.8 and cfg.subset.floors == (("edu_score", 1.0),)
    with pytest.raises(ValueError):
        recipes.override(cfg, {"topk": {"top_too": 0.2}})


def test_golden_counts(runs):
    expect = json.loads(GOLDEN.read_text())
    for name in ("v2", "medical"):
        assert runs[name]["invariant_ok"], runs[name]["invariant_problems"]
        assert funnel(runs[name]) == expect[name], name


def test_v2_scores_and_band(runs):
    out = runs["out"] / "v2"
    docs = _documents(out)
    assert docs and all({"wiki_score", "edu_score"} <= set(d) for d in docs)
    thr = [json.loads(x) for x in open(out / "_stats" / "topk_threshold.jsonl")]
    assert thr[0]["score"] == "edu_score" and thr[0]["top_to"] == 0.1


def test_medical_selection(runs):
    from pipeline import recipes

    out = runs["out"] / "medical"
    expect = json.loads(GOLDEN.read_text())
    docs = _documents(out)
    assert len(docs) >= 5, "the medical subset keeps pages of the medical sites"
    thr = recipes.get("medical").subset.min_score
    assert all(thr <= d["medical_score"] <= 1.0 and 0.0 <= d["edu_score"] <= 3.0 for d in docs)
    assert _selection(out) == expect["medical_selection"]
    share = [json.loads(x) for x in open(out / "_stats" / "subset_share.jsonl")]
    assert share[0]["pages_in"] == funnel(runs["medical"])["classify"]["pages_after"]
    assert share[0]["pages_kept"] == len(docs)
    ev = runs["medical"]["subset_eval"]
    assert ev["pages_labelled"] == share[0]["pages_in"]  # every page of the sample has a label
    assert {k: ev[k] for k in ("tp", "fp", "fn")} == expect["medical_eval"]
    assert ev["precision"] >= 0.8 and ev["recall"] >= 0.8


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        v2 = _run(d + "/v2", "v2", SAMPLE_WARCS[0].rsplit("/", 1)[0] + "/*.warc.gz")
        med = _run(d + "/medical", "medical", str(SITES / "*.warc.gz"),
                   "--subset_labels", str(SITES / "page_labels.tsv"))
        golden = {"v2": funnel(v2), "medical": funnel(med),
                  "medical_selection": _selection(pathlib.Path(d) / "medical"),
                  "medical_eval": {k: med["subset_eval"][k] for k in ("tp", "fp", "fn")}}
        GOLDEN.write_text(json.dumps(golden, ensure_ascii=False, indent=1) + "\n")
        print(json.dumps(golden, ensure_ascii=False, indent=1))
        print(json.dumps(med["subset_eval"], indent=1))
