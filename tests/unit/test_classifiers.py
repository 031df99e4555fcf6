"""fastText classifiers: features, score formulas, train → save → load → predict round trip,
evaluation metrics, and the shipped models' metadata."""
from __future__ import annotations

import json
import math
import pathlib

import pytest

from classifiers import ft, train
from classifiers.evaluate import binary_metrics, edu_metrics

DATA = pathlib.Path(__file__).parent.parent / "data" / "classifiers"
MODELS = pathlib.Path(ft.MODELS_DIR)


def test_features_are_char_2_and_3_grams_without_newlines():
    assert ft.features("あいう\nえ").split() == ["あい", "いう", "う_", "_え", "あいう", "いう_", "う_え"]
    f = ft.features("ab\n\ncd")
    assert "\n" not in f and f.split() == ["ab", "b_", "_c", "cd", "ab_", "b_c", "_cd"]
    assert ft.features("") == "" and len(ft.clean("x" * 5000, 100)) == 100


def test_score_formulas():
    assert ft.score_from(["__label__1", "__label__0"], [0.8, 0.2], "binary") == pytest.approx(0.8)
    assert ft.score_from(["__label__0", "__label__1"], [0.7, 0.3], "binary") == pytest.approx(0.3)
    # edu: Σ label × probability
    s = ft.score_from(["__label__3", "__label__1", "__label__0", "__label__2"], [0.5, 0.2, 0.1, 0.2], "edu")
    assert s == pytest.approx(3 * 0.5 + 1 * 0.2 + 2 * 0.2)
    with pytest.raises(ValueError):
        ft.score_from([], [], "nope")


def test_metrics():
    m = binary_metrics([1, 1, 0, 0], [0.9, 0.4, 0.6, 0.1])
    assert m["precision"] == 0.5 and m["recall"] == 0.5 and m["roc_auc"] == 0.75
    e = edu_metrics([0, 3, 2], [0.0, 2.0, 2.0], [0, 2, 2])
    assert e["accuracy"] == pytest.approx(2 / 3) and e["mae"] == pytest.approx(1 / 3)
    assert e["rmse"] == pytest.approx(math.sqrt(1 / 3)) and e["binary_accuracy_at_1.5"] == 1.0


def _train(tmp_path, *args):
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "m.bin"
    meta = train.main([*args, "--out", str(out), "--bucket", "2000", "--epoch", "15", "--lr", "0.1", "--min-count", "1",
                       "--seed", "0", "--max-chars", "400"])
    return out, meta


def test_binary_round_trip(tmp_path):
    out, meta = _train(tmp_path, "--kind", "binary", "--name", "wiki_score",
                       "--pos", str(DATA / "wiki_pos.jsonl"), "--neg", str(DATA / "web_neg.jsonl"))
    saved = json.loads((tmp_path / "m.json").read_text())
    assert saved["kind"] == "binary" and saved["test_size"] == 24 and saved["eval_heldout"]["n"] == 24
    assert saved["eval_heldout"]["roc_auc"] > 0.7
    scorer = ft.Scorer(str(out))  # load: kind and max_chars come from the JSON
    assert scorer.kind == "binary" and scorer.max_chars == 400
    wiki = [json.loads(x)["text"] for x in open(DATA / "wiki_pos.jsonl", encoding="utf-8")][:10]
    news = [json.loads(x)["text"] for x in open(DATA / "web_neg.jsonl", encoding="utf-8")][:10]
    s_wiki, s_news = scorer.score_batch(wiki), scorer.score_batch(news)
    assert all(0.0 <= s <= 1.0 for s in s_wiki + s_news)
    assert sum(s_wiki) / 10 > sum(s_news) / 10
    assert scorer.score(wiki[0]) == pytest.approx(s_wiki[0])  # batch == single
    assert scorer.score(wiki[0].replace("。", "。\n")) == pytest.approx(scorer.score(wiki[0].replace("。", "。 ")))


def test_edu_round_trip(tmp_path):
    out, meta = _train(tmp_path, "--kind", "edu", "--data", str(DATA / "edu_labels.jsonl"), "--label-field", "edu")
    assert set(meta["eval_heldout"]) >= {"accuracy", "rmse", "mae", "binary_accuracy_at_1.5"}
    s = ft.Scorer(str(out)).score_batch(["東京は日本の首都である。", ""])
    assert all(0.0 <= x <= 3.0 for x in s)
    assert meta["train_size"] == 64 and meta["test_size"] == 16  # seeded stratified 80/20 split
    _, meta2 = _train(tmp_path / "again", "--kind", "edu", "--data", str(DATA / "edu_labels.jsonl"), "--label-field", "edu")
    assert meta2["eval_heldout"] == meta["eval_heldout"]  # same seed, one thread: the same model


@pytest.mark.parametrize("name,kind", [("wiki", "binary"), ("edu", "edu"), ("medical", "binary")])
def test_shipped_models(name, kind):
    model = MODELS / f"{name}.ftz"
    meta = json.loads((MODELS / f"{name}.json").read_text())
    assert meta["kind"] == kind and meta["train_size"] > 1000 and meta["max_chars"] == 1200
    assert (meta["threshold"] is not None) == (kind == "binary")
    assert model.stat().st_size < 4_000_000
    s = ft.Scorer(f"{name}.ftz").score("肺炎は肺の炎症性疾患で、発熱や咳を伴う。治療には抗菌薬を用いる。")
    assert 0.0 <= s <= (3.0 if kind == "edu" else 1.0)


def test_read_texts_jsonl_parquet_text(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": ["あいう", "", "えお"], "edu": [1, 2, 3]}), tmp_path / "d.parquet")
    assert train.read_texts(str(tmp_path / "d.parquet"), "text", "edu") == [("あいう", 1), ("えお", 3)]
    (tmp_path / "d.txt").write_text("一行目\n\n二行目\n", encoding="utf-8")
    assert train.read_texts(str(tmp_path / "d.txt")) == [("一行目", None), ("二行目", None)]
    rows = train.read_texts(str(DATA / "edu_labels.jsonl"), "text", "edu")
    assert len(rows) == 80 and all(y in (0, 1, 2, 3) for _, y in rows)


@pytest.mark.parametrize("name", ["medical", "edu", "wiki"])
def test_plain_fasttext_gives_the_pipelines_score(name):
    """The README's recipe for users outside the pipeline: plain fastText + ``features``."""
    import fasttext

    texts = [json.loads(x)["text"] for x in open(DATA / "edu_labels.jsonl", encoding="utf-8")][:20]
    meta = json.loads((MODELS / f"{name}.json").read_text())
    m = fasttext.load_model(str(MODELS / f"{name}.ftz"))
    scorer = ft.Scorer(f"{name}.ftz")
    for text, want in zip(texts, scorer.score_batch(texts)):
        labels, probs = m.predict(ft.features(text, meta["max_chars"]), k=-1)
        p = dict(zip(labels, probs))
        got = (sum(int(k[-1]) * v for k, v in p.items()) / sum(p.values()) if meta["kind"] == "edu"
               else min(p.get("__label__1", 0.0), 1.0))  # fastText's softmax can round to 1.00001
        assert got == pytest.approx(want, abs=1e-6)
