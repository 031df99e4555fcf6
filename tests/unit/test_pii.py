"""PII anonymisation (transforms/pii.py): tables of texts that must change and of near-misses
(dates, versions, postal codes, prices, ISBNs, clock times, MAC addresses...) that must not."""
import re

import pytest

from transforms.pii import (EMAIL_REPLACEMENTS, IPV4_REPLACEMENTS, IPV6_REPLACEMENTS, CARD, EMAIL, IP, MY_NUMBER, PHONE, PIIConfig, PIIRule, anonymize, card_issuer,
                            is_jp_phone, luhn_valid, my_number_valid)

ALL = PIIConfig(phones=True, my_numbers=True, credit_cards=True)


@pytest.mark.parametrize("text, kind, expected", [
    # e-mail: glued to Japanese text (datatrove's \b misses it), upper case, full-width
    ("お問い合わせはinfo@shop-tanaka.co.jpまで", EMAIL, "お問い合わせは<EMAIL>まで"),
    ("連絡先：Taro.Yamada@Mail.Example.jp。", EMAIL, "連絡先：<EMAIL>。"),
    ("ｉｎｆｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", EMAIL, "<EMAIL>"),
    # IPv4 / IPv6, public only → documentation ranges
    ("サーバー 133.242.10.3 に接続", IP, "サーバー <IPV4> に接続"),
    ("アクセス元：203.104.209.7）", IP, "アクセス元：<IPV4>）"),
    ("2606:4700:4700::1111 へ", IP, "<IPV6> へ"),
    # Japanese phone numbers (optional)
    ("電話 03-1234-5678", PHONE, "電話 00-0000-0000"),
    ("携帯090-1234-5678まで", PHONE, "携帯000-0000-0000まで"),
    ("０９０－１２３４－５６７８", PHONE, "０００－００００－００００"),
    ("090ー1234ー5678", PHONE, "000ー0000ー0000"),
    ("+81-90-1234-5678", PHONE, "+81-00-0000-0000"),
    ("+81 (0)3 1234 5678", PHONE, "+81 (0)0 0000 0000"),
    ("(03)1234-5678", PHONE, "(00)0000-0000"),
    ("03(1234)5678", PHONE, "00(0000)0000"),
    ("電話番号は09012345678です", PHONE, "電話番号は00000000000です"),
    ("フリーダイヤル0120-123-456", PHONE, "フリーダイヤル0000-000-000"),
    ("0800-123-4567", PHONE, "0000-000-0000"),
    ("TEL 075-123-4567 FAX 075-123-4568", PHONE, "TEL 000-000-0000 FAX 000-000-0000"),
    # My Number with a valid check digit (optional)
    ("個人番号 1234 5678 9018", MY_NUMBER, "個人番号 0000 0000 0000"),
    ("123456789018", MY_NUMBER, "000000000000"),
    # card numbers: issuer prefix + length + Luhn (optional)
    ("カード番号 4111 1111 1111 1111", CARD, "カード番号 0000 0000 0000 0000"),
    ("JCB 3530-1113-3330-0000", CARD, "JCB 0000-0000-0000-0000"),
    ("Amex 378282246310005", CARD, "Amex 000000000000000"),
])
def test_replaced(text, kind, expected):
    out, counts = anonymize(text, ALL)
    pattern = re.escape(expected)
    for token, options in (("<EMAIL>", EMAIL_REPLACEMENTS), ("<IPV4>", IPV4_REPLACEMENTS),
                           ("<IPV6>", IPV6_REPLACEMENTS)):
        pattern = pattern.replace(re.escape(token), "(" + "|".join(map(re.escape, options)) + ")")
    assert re.fullmatch(pattern, out), out
    assert counts[kind] >= 1 and sum(counts.values()) == counts[kind]


@pytest.mark.parametrize("text", [
    "2024-01-15", "2024.01.15", "2024/01/15 12:30:45", "〒100-0001 東京都", "〒060-0001",
    "ISBN978-4-06-123456-7", "ISBN 4-06-123456-7", "ISBN9784061234567", "JAN 4901234567894",
    "価格 1,980円（税込2,178円）", "¥1,234,567", "バージョン 1.2.3.4", "v1.2.3.4", "ver.10.2.0.1",
    "1.2.3.4.5", "10.0.19041.1", "192.168.1.1", "127.0.0.1", "2001:db8::1", "12:30:45",
    "00:1A:2B:3C:4D:5E", "std::vector<int>", "dead::beef", "@username", "icon@2x.png",
    "090-1234-567", "03-1234-56789", "03-1234", "1234-5678", "00-1234-5678",
    "4111-1111-1111-1112", "123456789012", "注文番号 1234 5678 9012", "第3.5.2.1節", "8.8.8.8",
])
def test_near_misses_unchanged(text):
    out, counts = anonymize(text, ALL)
    assert out == text and not any(counts.values()), counts


def test_defaults_are_fineweb_kinds_only():
    text = "info@tanaka.jp 133.242.10.3 090-1234-5678 1234 5678 9018 4111 1111 1111 1111"
    out, counts = anonymize(text)
    assert counts[EMAIL] == counts[IP] == 1 and counts[PHONE] == counts[MY_NUMBER] == counts[CARD] == 0
    assert "090-1234-5678" in out and "4111 1111 1111 1111" in out and "1234 5678 9018" in out
    assert anonymize("133.242.10.3 と 10.1.2.30", PIIConfig(only_public_ips=False))[1][IP] == 2


def test_replacement_is_deterministic_and_order_free():
    a = anonymize("x@a.jp y@b.jp")[0]
    assert a == anonymize("x@a.jp y@b.jp")[0]
    assert anonymize("y@b.jp")[0] == a.split(" ")[1]  # the same address → the same placeholder


def test_checks():
    assert my_number_valid("123456789018") and not my_number_valid("123456789012")
    assert my_number_valid("000000000000") and not my_number_valid("12345678901")
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert card_issuer("4111111111111111") == "visa" and card_issuer("9784061234567") is None
    assert is_jp_phone("03-1234-5678") and is_jp_phone("+81-3-1234-5678") and not is_jp_phone("03-123-4567")


def test_rule_records_counts_and_keeps_every_page():
    rule = PIIRule(PIIConfig())
    out, reason = rule({"id": "a", "text": "連絡はa@b.co.jpかc@d.jpへ", "text_chars": 0})
    assert reason is None and out["pii_email"] == 2 and out["pii_ip"] == 0
    assert out["text_chars"] == len(out["text"]) and "@b.co.jp" not in out["text"]
