"""Table tests for the v1 quality rules: each rule's reason code at and around its threshold."""
import numpy as np
import pytest

from transforms.quality import QualityConfig, decide, measure, relaxed, sentences

# A page that passes every rule; each case changes one measured value.
GOOD = {
    "dup_line_frac": 0.0, "dup_sentence_frac": 0.0, "dup_line_chars_frac": 0.0,
    "dup_sentence_chars_frac": 0.0, "top_2gram_frac": 0.01, "top_3gram_frac": 0.01,
    "top_4gram_frac": 0.01, "dup_5gram_frac": 0.0, "dup_6gram_frac": 0.0, "dup_7gram_frac": 0.0,
    "dup_8gram_frac": 0.0, "dup_9gram_frac": 0.0, "dup_10gram_frac": 0.0,
    "chars": 1000, "ja_chars": 900, "hiragana_frac": 0.4, "katakana_frac": 0.1, "ja_frac": 0.9,
    "mean_sentence_len": 40.0, "max_sentence_len": 120, "ellipsis_sentence_frac": 0.0,
}

CASES = [
    # (field, value, expected reason or None)
    ("dup_line_frac", 0.30, None), ("dup_line_frac", 0.3001, "dup_line_frac_v1"),
    ("dup_sentence_frac", 0.30, None), ("dup_sentence_frac", 0.31, "dup_sentence_frac_v1"),
    ("dup_line_chars_frac", 0.20, None), ("dup_line_chars_frac", 0.21, "dup_line_chars_frac_v1"),
    ("dup_sentence_chars_frac", 0.20, None), ("dup_sentence_chars_frac", 0.2001, "dup_sentence_chars_frac_v1"),
    ("top_2gram_frac", 0.20, None), ("top_2gram_frac", 0.21, "top_2gram_frac_v1"),
    ("top_3gram_frac", 0.18, None), ("top_3gram_frac", 0.19, "top_3gram_frac_v1"),
    ("top_4gram_frac", 0.16, None), ("top_4gram_frac", 0.17, "top_4gram_frac_v1"),
    ("dup_5gram_frac", 0.15, None), ("dup_5gram_frac", 0.151, "dup_5gram_frac_v1"),
    ("dup_6gram_frac", 0.14, None), ("dup_6gram_frac", 0.141, "dup_6gram_frac_v1"),
    ("dup_7gram_frac", 0.13, None), ("dup_7gram_frac", 0.131, "dup_7gram_frac_v1"),
    ("dup_8gram_frac", 0.12, None), ("dup_8gram_frac", 0.121, "dup_8gram_frac_v1"),
    ("dup_9gram_frac", 0.11, None), ("dup_9gram_frac", 0.111, "dup_9gram_frac_v1"),
    ("dup_10gram_frac", 0.10, None), ("dup_10gram_frac", 0.101, "dup_10gram_frac_v1"),
    ("chars", 400, None), ("chars", 399, "ja_text_too_short_v1"),
    ("ja_chars", 400, None), ("ja_chars", 399, "ja_chars_too_few_v1"),
    ("hiragana_frac", 0.2, None), ("hiragana_frac", 0.199, "ja_hiragana_frac_v1"),
    ("katakana_frac", 0.5, None), ("katakana_frac", 0.501, "ja_katakana_frac_v1"),
    ("ja_frac", 0.5, None), ("ja_frac", 0.499, "ja_char_frac_v1"),
    ("mean_sentence_len", 20, None), ("mean_sentence_len", 19.9, "ja_sentence_len_short_v1"),
    ("mean_sentence_len", 90, None), ("mean_sentence_len", 90.1, "ja_sentence_len_long_v1"),
    ("max_sentence_len", 200, None), ("max_sentence_len", 201, "ja_sentence_max_len_v1"),
    ("ellipsis_sentence_frac", 0.2, None), ("ellipsis_sentence_frac", 0.21, "ja_ellipsis_frac_v1"),
]


@pytest.mark.parametrize("field,value,expected", CASES)
def test_rule_boundaries(field, value, expected):
    assert decide({**GOOD, field: value}) == expected


def test_good_page_passes():
    assert decide(GOOD) is None


@pytest.mark.parametrize("field,value", [
    ("katakana_frac", 0.9), ("ja_frac", 0.1), ("dup_5gram_frac", 0.5), ("dup_10gram_frac", 0.5)])
def test_relaxed_rules_drop_v2_exemptions(field, value):
    assert decide({**GOOD, field: value}) is not None
    assert decide({**GOOD, field: value}, relaxed()) is None


@pytest.mark.parametrize("field,value,reason", [
    ("hiragana_frac", 0.1, "ja_hiragana_frac_v1"), ("top_2gram_frac", 0.5, "top_2gram_frac_v1"),
    ("dup_line_frac", 0.9, "dup_line_frac_v1"), ("ja_chars", 10, "ja_chars_too_few_v1")])
def test_relaxed_rules_keep_the_rest(field, value, reason):
    assert decide({**GOOD, field: value}, relaxed()) == reason


def test_measure_duplicate_lines_and_chars():
    text = "あいう\nあいう\nかきくけこ\nさ"
    v = measure(text)
    assert v["dup_line_frac"] == pytest.approx(1 / 4)
    assert v["dup_line_chars_frac"] == pytest.approx(3 / 12)


def test_measure_sentences_split_on_japanese_punctuation_within_lines():
    assert sentences("今日は晴れ。明日は雨！本当？\nそうです") == ["今日は晴れ。", "明日は雨！", "本当？", "そうです"]
    v = measure("犬が走る。犬が走る。猫が寝る。")
    assert v["dup_sentence_frac"] == pytest.approx(1 / 3)
    assert v["dup_sentence_chars_frac"] == pytest.approx(5 / 15)


def test_measure_character_ngrams_are_code_points():
    # "ああああ": 2-grams = 3 × "ああ" → top fraction 1.0; 5-grams: none.
    v = measure("ああああ")
    assert v["top_2gram_frac"] == 1.0
    assert v["dup_5gram_frac"] == 0.0
    # "abcabc": 3-grams abc, bca, cab, abc → most frequent 2/4; 5-grams abcab, bcabc → none dup
    v = measure("abcabc")
    assert v["top_3gram_frac"] == pytest.approx(2 / 4)
    # "abcdeabcde": distinct 5-grams 5 (abcde twice) → dup frac 1/5
    assert measure("abcdeabcde")["dup_5gram_frac"] == pytest.approx(1 / 5)


def test_measure_character_classes():
    text = "ひらがなカタカナ漢字。abc"
    v = measure(text)
    assert v["ja_chars"] == 4 + 4 + 2 + 1
    assert v["hiragana_frac"] == pytest.approx(4 / 11)
    assert v["katakana_frac"] == pytest.approx(4 / 11)
    assert v["ja_frac"] == pytest.approx(11 / 14)


def test_measure_sentence_lengths_and_ellipsis():
    v = measure("あいう…\nかきくけこ。\nさし・")
    assert v["mean_sentence_len"] == pytest.approx((4 + 6 + 3) / 3)
    assert v["max_sentence_len"] == 6
    assert v["ellipsis_sentence_frac"] == pytest.approx(2 / 3)


def test_empty_text_is_measurable_and_rejected():
    assert decide(measure("")) == "ja_text_too_short_v1"


def test_disabled_threshold_never_fires():
    from dataclasses import replace
    cfg = QualityConfig()
    cfg = replace(cfg, japanese=replace(cfg.japanese, min_chars=None))
    assert decide({**GOOD, "chars": 1}, cfg) is None


def test_hashed_key_stats_equal_the_sorted_ones():
    """The compiled hash-table count gives exactly the sort's three numbers (collisions in the
    table are resolved by comparing keys; here forced by keys equal modulo the table size)."""
    from transforms import quality as q

    rng = np.random.default_rng(7)
    cases = [np.array([5], dtype=np.uint64), np.arange(1000, dtype=np.uint64) << np.uint64(40),
             rng.integers(0, 50, 5000).astype(np.uint64), rng.integers(0, 2**63, 3000, dtype=np.uint64)]
    for keys in cases:
        assert q._key_stats(keys) == q._key_stats_sorted(keys)
