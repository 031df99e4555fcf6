"""Decontamination (transforms/evals.py, transforms/decontaminate.py) on the invented fixture
tests/data/evals/: which pages are dropped (item, with suite and id), kept and counted
(passage only) or kept (clean, one JNLI caption, boilerplate), through light edits."""
import json

import pytest

from pipeline.evals_index import build_file, main as evals_index_main
from tests.conftest import DATA
from transforms import evals
from transforms.decontaminate import R_ITEM, R_PASSAGE, DecontaminateConfig, DecontaminateRule, Matcher

EVALS = DATA / "evals"
CLEAN = json.loads((DATA / "ja_texts.jsonl").read_text(encoding="utf-8").splitlines()[0])["text"]
ROWS = {r["id"]: r for r in evals.iter_items(str(EVALS))}


@pytest.fixture(scope="module")
def index_file(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("evals") / "evals_index.npz")
    build_file(str(EVALS), path)
    return path


@pytest.fixture(scope="module")
def matcher(index_file):
    return Matcher(evals.load(index_file))


def page(*parts: str) -> str:
    return CLEAN[:300] + "\n" + "\n".join(parts) + "\n" + CLEAN[300:600]


def _width(s: str) -> str:  # ASCII and digits → full-width
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


@pytest.mark.parametrize("text, expected", [
    # items: the question (with passage, alone, with edits), the JNLI pair, an MT-Bench turn ...
    (page(ROWS["f1p0q0"]["text"]), ("jsquad", "f1p0q0")),
    (page("問題：架空川の祭りで 秋に流されるものは、何か？"), ("jsquad", "f1p0q0")),
    (page(ROWS["fx-000-00-000"]["question"].replace("、", " ").replace("。", "")), ("jaquad", "fx-000-00-000")),
    (page(ROWS["f0"]["premise"], ROWS["f0"]["hypothesis"]), ("jnli", "f0")),
    (page(ROWS["fixture-1"]["question"][1]), ("japanese_mt_bench", "fixture-1")),
    (page(_width(ROWS["mgsm_ja-fixture-000"]["text"])), ("mgsm_ja", "mgsm_ja-fixture-000")),
    (page(ROWS["JHumanEval/fixture0"]["text"]), ("jhumaneval", "JHumanEval/fixture0")),
    (page(ROWS["fixture-enja-0000"]["reference"]), ("wmt20_enja", "fixture-enja-0000")),
    (page("朝食の器は？ 茶碗 靴箱 物置 金庫 車庫"), ("jcommonsenseqa", "f101")),  # short question + choices
    (page(ROWS["fixture0001"]["question"]), ("jemhopqa", "fixture0001")),
    # half of a question is still the question (min_fraction 0.5)
    (page(ROWS["fixture_subject-0000"]["question"][:28]), ("jmmlu", "fixture_subject-0000")),
])
def test_item_found(matcher, text, expected):
    m = matcher.match(text)
    assert m.items and m.items[0][:2] == expected, m


@pytest.mark.parametrize("text, passage", [
    (page(ROWS["f1p0q0"]["context"]), ("jsquad", "f1p0q0")),           # Wikipedia-like context only
    (page(ROWS["fx-000-00-000"]["context"]), ("jaquad", "fx-000-00-000")),
    (page(ROWS["fixture-jaen-0000"]["source"]), ("wmt20_jaen", "fixture-jaen-0000")),  # news source
    # a short question (10 characters or less) next to its passage: indistinguishable, passage only
    (page(ROWS["f1p0q1"]["text"]), ("jsquad", "f1p0q0")),
])
def test_passage_only(matcher, text, passage):
    m = matcher.match(text)
    assert not m.items and passage in m.passages, m


@pytest.mark.parametrize("text", [
    CLEAN,
    page(ROWS["f0"]["premise"]),                       # one JNLI caption is ordinary text
    page("次のうち正しいものはどれか。"[:8]),              # part of a boilerplate question
    page("架空川"),                                      # a title
    page(ROWS["fixture_subject-0000"]["question"][:12]),  # under half of a question
    "",
])
def test_not_found(matcher, text):
    m = matcher.match(text)
    assert not m.items and not m.passages, m


def test_rule_reason_and_columns(index_file):
    rule = DecontaminateRule(DecontaminateConfig(index=index_file))
    out, reason = rule({"id": "x", "text": page(ROWS["f1p0q0"]["text"])})
    assert reason == R_ITEM and (out["eval_suite"], out["eval_item"]) == ("jsquad", "f1p0q0")
    out, reason = rule({"id": "y", "text": page(ROWS["f1p0q0"]["context"])})
    assert reason is None and out["eval_passage"] == "jsquad/f1p0q0"
    out, reason = rule({"id": "z", "text": CLEAN})
    assert reason is None and out["eval_passage"] is None
    strict = DecontaminateRule(DecontaminateConfig(index=index_file, drop_passage_matches=True))
    out, reason = strict({"id": "y", "text": page(ROWS["f1p0q0"]["context"])})
    assert reason == R_PASSAGE and out["eval_suite"] == "jsquad"
    assert DecontaminateRule(DecontaminateConfig())({"id": "z", "text": "x"}) == ({"id": "z", "text": "x", "eval_passage": None}, None)


def test_rule_pickles_without_the_index(index_file):
    import pickle

    rule = DecontaminateRule(DecontaminateConfig(index=index_file))
    rule.setup()
    assert len(pickle.dumps(rule)) < 2000


def test_index_contents(index_file):
    ix = evals.load(index_file)
    suites = ix.meta["suites"]
    assert len(suites) == 12 and ix.meta["ngram"] == evals.DEFAULT_NGRAM
    assert suites["jsquad"] == {"items": 2, "matchable": 1, "passages": 1}  # f1p0q1: short, passage between
    assert suites["niilc"]["matchable"] == 1  # 星見町の県は？ + 北見県: under n characters
    assert set(ix.meta["sources"]["sha256"]) == {p.name for p in EVALS.glob("*.jsonl")}


def test_normalize():
    assert evals.normalize("Ａｂｃ　１２３、「テスト」！") == "abc123テスト"
    assert evals.normalize("ｶﾞｲﾄﾞ") == "ガイド"
    assert evals.normalize("a b\nc") == "abc"


def test_item_parts_follow_the_caveats():
    assert evals.item_parts(ROWS["f0"])[0] == [[ROWS["f0"]["premise"], ROWS["f0"]["hypothesis"]]]
    # a short question followed by its passage: both must be found
    assert evals.item_parts(ROWS["f1p0q1"]) == ([[ROWS["f1p0q1"]["question"], ROWS["f1p0q1"]["context"]]],
                                                [ROWS["f1p0q1"]["context"]])
    keys, _ = evals.item_parts(ROWS["f101"])
    assert keys[0][0].startswith("朝食の器は？\n茶碗")
    keys, _ = evals.item_parts(ROWS["JHumanEval/fixture0"])
    assert keys == [["    \"\"\"与えられた整数xに3を足した値を返す関数を実装する。"]]


def test_question_copied_from_its_passage_needs_the_passage():
    passage = ROWS["f1p0q0"]["context"]
    question = "毎年秋には灯籠を流す祭りが開かれるか。"  # all but its last 10-gram is passage text
    row = {"suite": "s", "id": "q", "question": question, "context": passage,
           "text": question + "\n" + passage + "\nはい"}
    m = Matcher(evals.build([row]))
    assert m.index.items[0][2] and len(m.index.items[0][2][0]) == 2  # [question, passage]
    assert not m.match(page(passage)).items and m.match(page(passage)).passages
    assert m.match(page(question, passage)).items
    assert not m.match(page(question)).items  # the question alone: one 10-gram of ordinary text


def test_common_ngrams_are_dropped():
    rows = [{"suite": "s", "id": str(i), "question": f"次のうち正しいものはどれか。問{i}番"} for i in range(6)]
    ix = evals.build(rows, max_df=4)
    m = Matcher(ix)
    assert not m.match("次のうち正しいものはどれか。").items
    assert ix.meta["ngrams_dropped_common"] > 0


def test_cli(tmp_path, capsys):
    out = tmp_path / "ix.npz"
    assert evals_index_main(["--evals", str(EVALS), "--output", str(out), "--ngram", "8"]) == 0
    assert evals.load(str(out)).ngram == 8 and "jsquad" in capsys.readouterr().out
    assert evals_index_main(["--evals", str(tmp_path / "none"), "--output", str(out)]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_load_refuses_other_files(tmp_path):
    import numpy as np

    bad = tmp_path / "bad.npz"
    np.savez(bad, doc=np.frombuffer(b'{"meta": {"format": "x"}}', dtype=np.uint8))
    with pytest.raises(ValueError, match="evals-index"):
        evals.load(str(bad))
