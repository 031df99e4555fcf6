"""Kana test on real byte strings in each encoding: Japanese passes, Chinese/Korean does not."""
from __future__ import annotations


import pytest

from tests.conftest import is_kana
from transforms.decode import decode_html
from transforms.kana import kana_count_text, kana_passes, kana_stats_text

# Real sentences. The GB2312 middle dot is written as U+30FB because that is what Python's
# gb2312 codec makes of the bytes A1 A4 every GB2312 page uses for "·".
JA = ("日本語のウェブページです。これはテストの文章で、ひらがなとカタカナを含みます。"
      "昔のホームページには、lang属性がないものが多い。")
ZH = "这是一个中文网页，介绍了北京的历史和文化。威廉・莎士比亚是英国作家，他的作品被翻译成多种语言。"
ZH_WITH_NO = ZH + "我の店很好，欢迎光临。"  # the trendy "の" of Chinese shop names
TW = "這是一個中文網頁，介紹了台北的歷史和文化。莎士比亞是英國作家，他的作品被翻譯成多種語言。"
KO = "이것은 한국어 웹 페이지입니다. 서울의 역사와 문화를 소개합니다. 정말 재미있네요 ㅋㅋㅋ "

MIN_KANA, MIN_SHARE = 3, 0.1


def page(body: str, title: str = "Calendar") -> str:
    """An old-style page: English title, no ``lang`` attribute, no charset declaration."""
    return f"<html><head><title>{title}</title></head><body><p>{body}</p></body></html>"


def n_kana(s: str) -> int:
    return sum(map(is_kana, s))


def passes_text(text: str) -> bool:
    st = kana_stats_text(text, 32768, MIN_KANA, MIN_SHARE)
    return kana_passes(st.kana, st.cjk, MIN_KANA, MIN_SHARE)


JAPANESE = ["utf_8", "shift_jis", "cp932", "euc_jp", "iso2022_jp", "utf_16", "utf_16_le", "utf_16_be"]


@pytest.mark.parametrize("codec", JAPANESE)
@pytest.mark.parametrize("declared", [False, True])
def test_japanese_passes_in_every_encoding(codec, declared):
    body = JA
    if codec in ("utf_16_le", "utf_16_be"):
        # Without a BOM the decoder recognises UTF-16 by the NULs of ASCII markup (and calls a
        # CJK-heavy BOM-less page binary even when it is declared: a decode.py limit), so give
        # it a real page's worth of markup.
        body = "<style>" + "p { margin: 0 auto; } " * 20 + "</style>" + JA
    raw = page(body).encode(codec)
    text, _ = decode_html(raw, codec if declared else None)
    assert passes_text(text)
    assert kana_count_text(text) == n_kana(JA)


@pytest.mark.parametrize("codec,body", [
    ("gb2312", ZH), ("gb2312", ZH_WITH_NO), ("gbk", ZH_WITH_NO.replace("・", "·")), ("utf_8", ZH_WITH_NO),
    ("big5", TW), ("utf_8", TW), ("euc_kr", KO), ("cp949", KO), ("utf_8", KO),
])
@pytest.mark.parametrize("declared", [False, True])
@pytest.mark.parametrize("repeat", [1, 20])
def test_chinese_and_korean_do_not_pass(codec, body, declared, repeat):
    raw = page(body * repeat).encode(codec)
    text, _ = decode_html(raw, codec if declared else None)
    assert not passes_text(text), (codec, declared, kana_stats_text(text))


def test_undeclared_euc_kr_is_misdecoded_as_euc_jp_and_the_share_check_catches_it():
    # The decoder reads an undeclared EUC-KR page as EUC-JP: jamo row A4 becomes hiragana
    # (ㅋ → せ) and hangul becomes kanji. The count alone would pass; the share does not.
    text, codec = decode_html(page(KO * 5).encode("euc_kr"), None)
    assert codec == "euc_jp"
    st = kana_stats_text(text)
    assert st.kana >= MIN_KANA
    assert st.kana < MIN_SHARE * (st.kana + st.cjk)
    assert not passes_text(text)


def test_gb2312_kana_rows_are_kana_but_a_sprinkle():
    # GB2312 encodes kana in rows A4/A5 exactly like EUC-JP: the bytes of "の" are the same.
    assert "の".encode("gb2312") == "の".encode("euc_jp") == b"\xa4\xce"
    text = (ZH_WITH_NO * 20)
    st = kana_stats_text(text)
    assert st.kana == 20 and st.cjk > 500
    assert not passes_text(text)


def test_middle_dot_and_halfwidth_katakana_are_not_kana():
    assert b"\xa1\xa4".decode("gb2312") == "\u30fb"  # the Chinese middle dot
    assert not is_kana("\u30fb") and not is_kana("ー") and not is_kana("ｱ")
    # A Big5 page decoded as CP932 becomes half-width katakana: none of it counts.
    garbage = TW.encode("big5").decode("cp932", "replace")
    assert any("\uff66" <= c <= "\uff9d" for c in garbage)
    assert kana_count_text(garbage) == 0


def test_text_window_and_early_exit():
    text = "<script>" + "a" * 40000 + "</script>" + JA
    assert kana_count_text(text, 32768) == 0
    assert kana_count_text(text, 65536) == n_kana(JA)
    long_ja = JA * 2000
    st = kana_stats_text(long_ja, 65536, MIN_KANA, MIN_SHARE, chunk=1024)
    assert st.scanned == 1024 and kana_passes(st.kana, st.cjk, MIN_KANA, MIN_SHARE)
    # Without thresholds the whole window is counted.
    assert kana_stats_text(long_ja, 65536).scanned == 65536


def test_share_counts_cjk_before_the_first_kana():
    # 9000 hanzi, then a little kana: the share must see the hanzi of the chunks before.
    text = "中" * 9000 + "ひらがな"
    st = kana_stats_text(text, 32768, MIN_KANA, MIN_SHARE, chunk=1024)
    assert st.cjk == 9000 and st.kana == 4
    assert not kana_passes(st.kana, st.cjk, MIN_KANA, MIN_SHARE)


def test_numeric_references_on_ascii_pages():
    refs = "".join(f"&#{ord(c)};" if i % 2 else f"&#x{ord(c):X};" for i, c in enumerate("にほんごのページ"))
    text = f"<html><head><title>JIS X 0213</title></head><body>{refs}</body></html>"
    assert text.isascii()
    assert kana_count_text(text) == 7  # ー is not counted
    assert passes_text(text)
    # References to other characters do not count.
    assert kana_count_text("<p>&#8217;&#x4E2D;&#169;</p>") == 0


def test_ascii_and_latin_pages_have_no_kana():
    assert kana_stats_text(page("A plain English page about Calendar software."), 32768, 3, 0.1).kana == 0
    assert kana_count_text(page("Der Bäcker grüßt – “Grüß Gott”")) == 0


def test_small_japanese_page():
    # A real 53-byte page from the sample (fudousan.github.io/shimizu-c/images/support.html).
    raw = b"<html><body><h1>\xe3\x82\xb5\xe3\x83\xbc\xe3\x83\x93\xe3\x82\xb9\xe5\x86\x85\xe5\xae\xb9</h1></body></html>"
    text, _ = decode_html(raw, None)
    assert kana_count_text(text) == 3  # サ ビ ス (ー is not counted)
    assert passes_text(text)
