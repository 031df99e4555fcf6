"""NG-word fraction and punctuation/footer normalisation."""
import pytest

from transforms.harmful import DEFAULT_NGWORDS, HarmfulRule, automaton, ng_fraction, ng_matches
from transforms.normalize import (DEFAULT_FOOTER_KEYWORDS, NormalizeRule, keyword_cover, load_keywords,
                                  normalize_punctuation, remove_footer)

AUTO = automaton(DEFAULT_NGWORDS)
KW = load_keywords(DEFAULT_FOOTER_KEYWORDS)


def test_ng_matches_are_greedy_longest_and_width_insensitive():
    spans = ng_matches("これはＡＶ女優です", AUTO)
    assert spans == [(3, 7)]  # "AV女優", not just a shorter entry


def test_ascii_ng_words_count_only_as_tokens():
    assert ng_matches("small smart 3px", AUTO) == []
    assert len(ng_matches("it is sm here", AUTO)) == 1


@pytest.mark.parametrize("ng,ja,keep", [(0, 100, True), (4, 100, True), (5, 100, False), (50, 100, False)])
def test_ng_fraction_threshold(ng, ja, keep):
    # build a text with `ja` Japanese letters of which `ng` are inside NG words ("きちがい" = 4 chars)
    words = ng // 4
    text = "きちがい" * words + "あ" * (ja - 4 * words)
    frac, n = ng_fraction(text, AUTO)
    assert n == 4 * words
    rec, reason = HarmfulRule()({"text": text})
    assert (reason is None) == (frac < 0.05) == (keep if ng % 4 == 0 else (frac < 0.05))
    assert rec["ng_fraction"] == pytest.approx(frac)


@pytest.mark.parametrize("text,expected", [
    ("今日は，晴れ．明日は，雨．", "今日は、晴れ。明日は、雨。"),
    ("価格は１，０００円，です，よ", "価格は１，０００円、です、よ"),   # full-width digits keep their comma
    ("今日は、晴れ，明日は、雨", "今日は、晴れ，明日は、雨"),         # 、 already dominates: untouched
    ("「はい」，そう", "「はい」、そう"),                              # after a closing bracket
])
def test_punctuation_normalisation(text, expected):
    assert normalize_punctuation(text) == expected


def test_footer_cut_at_first_footer_line_in_window():
    body = [f"本文の{i}行目です。" for i in range(20)]
    text = "\n".join(body + ["Copyright © 2020 All rights reserved.", "お問い合わせ"])
    cut, n = remove_footer(text, KW, window=10)
    assert cut == "\n".join(body) and n == 2


def test_footer_outside_window_is_kept():
    text = "\n".join(["プライバシーポリシー"] + [f"本文{i}です。" for i in range(20)])
    assert remove_footer(text, KW, window=3) == (text, 0)


def test_keyword_cover_threshold():
    assert keyword_cover("サイトマップ", KW) == 1.0
    assert keyword_cover("この文章はサイトマップについて長々と説明している本文です。", KW) < 0.3


def test_normalize_rule_updates_text_chars():
    rec, reason = NormalizeRule()({"text": "本文です，はい．\nCopyright (C) 2020", "text_chars": 99})
    assert reason is None and rec["text"] == "本文です、はい。" and rec["text_chars"] == len(rec["text"])
    _, reason = NormalizeRule()({"text": "Copyright (C) 2020 All rights reserved"})
    assert reason == "empty_after_footer_v1"
