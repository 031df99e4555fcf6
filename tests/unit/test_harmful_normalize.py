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


# One row per case of swallow-corpus kutoten.py ``normalize`` (its doctests first); every row but
# the two marked "reading" is what Swallow's code gives.
@pytest.mark.parametrize("text,expected", [
    ("この文章の句点、読点を修正します。", "この文章の句点、読点を修正します。"),
    ("この文章の句点，読点を修正します。", "この文章の句点、読点を修正します。"),
    ("この文章の句点、読点を修正します．", "この文章の句点、読点を修正します。"),
    ("この文章の句点，読点を修正します．", "この文章の句点、読点を修正します。"),
    # full-width letters and digits keep the comma or period after them
    ("Ｈｉ，のように全角でも、できるだけ修正します。", "Ｈｉ，のように全角でも、できるだけ修正します。"),
    ("Ｈｉ，のように全角でも，できるだけ修正します．", "Ｈｉ，のように全角でも、できるだけ修正します。"),
    ("円周率は３．１４と習いました，のように，修正します．", "円周率は３．１４と習いました、のように、修正します。"),
    ("価格は１，０００円，です，よ", "価格は１，０００円、です、よ"),
    # runs: each character of a run is replaced; a run votes once
    ("お待ちください．．．", "お待ちください。。。"),
    ("それは，，，，，", "それは、、、、、"),
    ("あ、、い，，う，", "あ、、い、、う、"),                  # ， runs 2 > 、 runs 1
    ("あ、、、い、、、う，", "あ、、、い、、、う，"),            # 、 runs 2 > ， runs 1
    ("１，，あ，い", "１，、あ、い"),                            # the run's first ， follows １
    # only commas after a Japanese character vote
    ("今日は、晴れ，明日は、雨", "今日は、晴れ，明日は、雨"),      # 、 dominates: untouched
    ("A，B，C、あ、い", "A，B，C、あ、い"),                      # after Latin letters: no vote
    ("「はい」，そう", "「はい」、そう"),                          # full-width closing bracket votes
    ("(はい)，そう", "(はい)，そう"),                              # ASCII bracket: no vote, no change
    ("[注]，とは", "[注]，とは"),
    ("注)，これ，あれ", "注)、これ、あれ"),                        # votes elsewhere: replaced after ) too
    # a comma at the start of the text follows no character: it stays
    ("，最初に，読点", "，最初に、読点"),
    # periods are decided on the original text, apart from commas
    ("今日は，晴れ。明日は，雨。", "今日は、晴れ。明日は、雨。"),
    ("今日は、晴れ．明日は、雨．", "今日は、晴れ。明日は、雨。"),
    # reading: supplementary-plane kanji vote (Swallow's surrogate-pair class never matches in Python 3)
    ("𠮟，𠮟，あ、い", "𠮟、𠮟、あ、い"),
    # reading: ^ is no exception (a literal ^ in Swallow's class)
    ("x^，あ，い", "x^、あ、い"),
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


@pytest.mark.parametrize("line,cover", [
    ("サイトマップ", 1.0),
    ("", 0.0),
    ("Copyright 2020", 9 / 14),
    ("PR" + "\u3000" * 8, 2 / 10),        # spaces count in the line's length, as in Swallow's is_footer
    ("コメントコメント", 1.0),              # every occurrence is deleted
    ("この文章はサイトマップについて長々と説明している本文です。", 6 / 29),
])
def test_keyword_cover(line, cover):
    assert keyword_cover(line, KW) == pytest.approx(cover)


def test_footer_keywords_are_swallows():
    # swallow-corpus footer.py: 70 distinct keywords, longest first
    assert len(KW) == 70 and KW[0] == "All rights reserved" and len(KW[0]) == 19
    assert {"特定商取引法に基づく表記", "Copyright", "©", "http", "PR"} <= set(KW)
    assert "Powered by" not in KW  # our own list's words are gone


def test_normalize_rule_updates_text_chars():
    rec, reason = NormalizeRule()({"text": "本文です，はい．\nCopyright (C) 2020", "text_chars": 99})
    assert reason is None and rec["text"] == "本文です、はい。" and rec["text_chars"] == len(rec["text"])
    _, reason = NormalizeRule()({"text": "Copyright (C) 2020 All rights reserved"})
    assert reason == "empty_after_footer_v2"
