"""Golden v2 / medical runs on the real sample (tests/data/warc): counts per stage are checked in,
the report invariant holds, score columns are in the Parquet, and the recipe order is the issue's.
Regenerate with ``python tests/golden/test_v2.py`` (prints the funnel)."""
from __future__ import annotations

import glob
import json
import pathlib

import pytest

from tests.conftest import SAMPLE_WARCS

GOLDEN = pathlib.Path(__file__).parent / "v2_counts.json"


def funnel(report: dict) -> dict:
    return {row["stage"]: {"pages_after": row["pages_after"], "by_reason": row["by_reason"]}
            for row in report["funnel"]}


def _run(out: str, recipe: str) -> dict:
    from pipeline.cli import run

    return run(["--input", SAMPLE_WARCS[0].rsplit("/", 1)[0] + "/*.warc.gz", "--output", out,
                "--recipe", recipe, "--runner=FnApiRunner", "--direct_num_workers=1"])


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    base = tmp_path_factory.mktemp("golden_v2")
    return {"medical": _run(str(base / "medical"), "medical"), "out": base}


def test_recipe_order():
    from pipeline import recipes

    v2 = recipes.get("v2").stages
    assert v2.index("extract") < v2.index("quality") < v2.index("classify") < v2.index("topk") < v2.index("normalize")
    assert recipes.get("v2").quality.japanese.max_katakana_frac is None
    assert recipes.get("v2").prefilter.mode == "both"
    med = recipes.get("medical").stages
    assert med[: med.index("topk") + 1] == v2[: v2.index("topk") + 1] and med.index("medical") == med.index("topk") + 1
    v1 = recipes.get("v1").stages
    assert v1.index("harmful") < v1.index("hosts") < v1.index("normalize")


def test_config_file_overrides_new_fields(tmp_path):
    from pipeline import recipes

    f = tmp_path / "cfg.json"
    f.write_text(json.dumps({"topk": {"score": "wiki_score", "top_from": 0.1, "top_to": 0.3},
                             "hosts": {"ut1_parents": True, "max_ng_char_ratio": 0.01},
                             "classify": {"models": [["wiki_score", "wiki.ftz", "binary"]]},
                             "medical": {"min_score": 0.8}}))
    cfg = recipes.load("medical", str(f))
    assert (cfg.topk.score, cfg.topk.top_from, cfg.topk.top_to) == ("wiki_score", 0.1, 0.3)
    assert cfg.hosts.ut1_parents and cfg.hosts.max_ng_char_ratio == 0.01
    assert cfg.classify.models == (("wiki_score", "wiki.ftz", "binary"),) and cfg.medical.min_score == 0.8
    with pytest.raises(ValueError):
        recipes.override(cfg, {"topk": {"top_too": 0.2}})


def test_golden_counts(reports):
    r = reports["medical"]
    assert r["invariant_ok"], r["invariant_problems"]
    expect = json.loads(GOLDEN.read_text())
    assert funnel(r) == expect["medical"]


def test_score_columns_and_share(reports):
    import pyarrow.parquet as pq

    out = reports["out"] / "medical"
    files = glob.glob(str(out / "documents" / "*.parquet"))
    t = pq.read_table(files[0]) if files else None
    if t is not None and t.num_rows:
        assert {"wiki_score", "edu_score", "medical_score"} <= set(t.column_names)
        assert min(t.column("medical_score").to_pylist()) >= 0.5
    share = [json.loads(x) for x in open(out / "_stats" / "medical_share.jsonl")]
    assert share[0]["pages_in"] == funnel(reports["medical"])["topk"]["pages_after"]
    thr = [json.loads(x) for x in open(out / "_stats" / "topk_threshold.jsonl")]
    assert thr[0]["score"] == "edu_score" and thr[0]["top_to"] == 0.1


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        r = _run(d + "/medical", "medical")
        GOLDEN.write_text(json.dumps({"medical": funnel(r)}, ensure_ascii=False, indent=1) + "\n")
        print(json.dumps(funnel(r), ensure_ascii=False, indent=1))
        print(open(d + "/medical/_stats/medical_share.jsonl").read(), open(d + "/medical/_stats/topk_threshold.jsonl").read())
