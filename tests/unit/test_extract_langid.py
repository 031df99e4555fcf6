"""Extraction with a hard time limit, and language ID."""
import time

import pytest

from classifiers.langid import LangId
from transforms.extract import ExtractConfig, ExtractRule, drop_blank_lines, extract_trafilatura
from transforms.langid import LangIdRule
from transforms.records import RecordError

PAGE = ("<html><head><title>t</title></head><body><nav>メニュー</nav><article>"
        + "".join(f"<p>これは本文の{i}番目の段落です。日本語の文章が続きます。</p>" for i in range(8))
        + "</article></body></html>")


def test_drop_blank_lines():
    assert drop_blank_lines("a\n\n  \nb\n") == "a\nb"


def test_resiliparse_extracts_main_text_without_blank_lines():
    rule = ExtractRule(ExtractConfig(timeout_s=10))
    try:
        rec, reason = rule({"html": PAGE, "id": "x"})
    finally:
        rule.teardown()
    assert reason is None and "html" not in rec
    assert "これは本文の0番目の段落です。" in rec["text"] and "\n\n" not in rec["text"]
    assert rec["text_chars"] == len(rec["text"])


def test_trafilatura_option():
    assert "これは本文の3番目の段落です。" in extract_trafilatura(PAGE)


def test_deeply_nested_html_times_out_and_worker_recovers():
    rule = ExtractRule(ExtractConfig(timeout_s=1.0))
    nested = "<div>" * 200_000 + "x" + "</div>" * 200_000
    try:
        t = time.monotonic()
        with pytest.raises(RecordError) as e:
            rule({"html": nested, "warc_file": "f", "warc_offset": 1})
        assert e.value.kind == "extract_timeout"
        assert time.monotonic() - t < 5
        rec, reason = rule({"html": PAGE})  # a fresh child takes over
        assert reason is None and rec["text"]
    finally:
        rule.teardown()


def test_size_limit_is_an_error():
    rule = ExtractRule(ExtractConfig(max_html_chars=100, timeout_s=0))
    with pytest.raises(RecordError) as e:
        rule({"html": "x" * 101})
    assert e.value.kind == "html_too_large"


def test_empty_extraction_is_a_drop():
    rule = ExtractRule(ExtractConfig(timeout_s=0))
    assert rule({"html": "<html><body></body></html>"})[1] == "extract_empty_v1"


@pytest.mark.parametrize("text,lang,keep", [
    ("これは日本語の文章です。今日は良い天気ですね。", "ja", True),
    ("这是一个中文句子，今天天气很好。", "zh", False),
    ("This is an English sentence about the weather.", "en", False),
    ("", "", False),
])
def test_langid_rule(text, lang, keep):
    rec, reason = LangIdRule()({"text": text})
    assert rec["lang"] == lang
    assert (reason is None) == keep
    if keep:
        assert rec["lang_score"] > 0.9


def test_langid_model_is_not_pickled():
    import pickle
    lid = LangId().load()
    assert len(pickle.dumps(lid)) < 1000


def test_langid_max_chars_reads_only_the_head():
    from transforms.langid import LangIdConfig
    text = "これは日本語の文章です。" * 5 + " This page then continues in English for a long while." * 40
    full, _ = LangIdRule(LangIdConfig(max_chars=None))({"text": text})
    head, _ = LangIdRule(LangIdConfig(max_chars=60))({"text": text})
    assert full["lang"] == "en" and head["lang"] == "ja"


def test_langid_default_bound_and_whole_text_override(tmp_path):
    import json

    from pipeline import recipes
    from transforms.langid import LangIdConfig

    assert LangIdConfig().max_chars == 2000
    assert all(recipes.get(r).langid.max_chars == 2000 for r in ("v1", "v2", "medical"))
    f = tmp_path / "whole.json"
    f.write_text(json.dumps({"langid": {"max_chars": None}}))  # Swallow's whole-text LID
    assert recipes.load("v1", str(f)).langid.max_chars is None
    # A page far longer than the bound: the prediction reads only its first 2,000 characters.
    text = "日本語の文章です。" * 200 + " English continues here for a long while." * 500
    out, reason = LangIdRule()({"text": text})
    assert out["lang"] == "ja" and reason is None
