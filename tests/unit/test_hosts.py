"""Host rules (Swallow v1 §3.5), pure functions: UT1 exact/parent match, dating-service pages,
NG ratio with whitelist, name patterns, the per-host decision."""
from __future__ import annotations

import gzip

from transforms.hosts import (
    R_DATING, R_NG, R_PATTERN, R_UT1, SWALLOW_UT1_CATEGORIES_FILE, UT1_SWALLOW, HostDecider,
    HostsConfig, PageCounter, add_counts, dating_automaton, load_categories, load_ut1,
    matches_pattern, names_dating_service, ng_automaton, ng_chars, parents, ut1_category,
)


def _ut1(tmp_path):
    (tmp_path / "gambling").mkdir(exist_ok=True)
    with gzip.open(tmp_path / "gambling" / "domains.gz", "wt") as f:
        f.write("# comment\ncasino.example.com\nbet.example\n")
    (tmp_path / "dating").mkdir(exist_ok=True)
    (tmp_path / "dating" / "domains").write_text("love.example.org\n")
    return str(tmp_path)


def test_shipped_ut1_lists_load():
    bl = load_ut1(HostsConfig().ut1_dir, HostsConfig().ut1_categories)
    assert len(bl) > 30000
    assert bl["007agent-russian-women.net"] == "dating"


def test_ut1_categories_are_swallows():
    # swallow-corpus ngurl.py's NG set ("mixed adult" read as UT1's mixed_adult; custom = own list)
    swallow = {"adult", "shopping", "cryptojacking", "games", "redirector", "strict_redirector", "vpn",
               "strong_redirector", "social_networks", "ddos", "gambling", "publicite", "bitcoin",
               "dating", "phishing", "filehosting", "agressif", "chat", "mixed_adult", "celebrity",
               "financial", "manga", "remote-control", "webmail", "malware", "doh", "warez", "custom"}
    assert HostsConfig().ut1_categories == UT1_SWALLOW == load_categories(SWALLOW_UT1_CATEGORIES_FILE)
    assert set(UT1_SWALLOW) == swallow and len(UT1_SWALLOW) == 28
    assert "hacking" not in UT1_SWALLOW and "sexual_education_is_not_here" not in UT1_SWALLOW
    assert R_UT1 == "host_ut1_v2"


def test_ut1_custom_list_is_read_when_present(tmp_path):
    (tmp_path / "custom").mkdir()
    (tmp_path / "custom" / "domains").write_text("spam.example.jp\n")
    assert load_ut1(str(tmp_path), UT1_SWALLOW) == {"spam.example.jp": "custom"}


def test_ut1_exact_and_parent_match(tmp_path):
    bl = load_ut1(_ut1(tmp_path), ("gambling", "dating", "absent"))
    assert ut1_category("casino.example.com", bl, False) == "gambling"
    assert ut1_category("CASINO.example.com.", bl, False) == "gambling"
    assert ut1_category("www.bet.example", bl, False) is None  # Swallow: exact hostname only
    assert ut1_category("www.bet.example", bl, True) == "gambling"
    assert ut1_category("a.love.example.org", bl, True) == "dating"
    assert ut1_category("example.com", bl, True) is None
    assert load_ut1(_ut1(tmp_path), ("gambling",)).get("love.example.org") is None  # categories select
    assert parents("a.b.example.com") == ["b.example.com", "example.com"]


def test_patterns():
    pats = HostsConfig().patterns
    assert matches_pattern("ja.wikipedia.org", pats) and matches_pattern("wikipedia.org", pats)
    assert matches_pattern("egg.5ch.net", pats) and not matches_pattern("5ch.net.example.com", pats)
    assert not matches_pattern("example.jp", pats)


def test_dating_names():
    auto = dating_automaton(HostsConfig().dating_services)
    assert names_dating_service("昨日ハッピーメールで知り合った", auto)
    assert names_dating_service("ｐｃｍａｘ の 登録", auto)
    assert not names_dating_service("PCMAXIMUM is a product", auto)  # ASCII names whole tokens only
    assert not names_dating_service("今日は晴れ。", auto)


def test_ng_chars_whitelist():
    cfg = HostsConfig()
    auto = ng_automaton(cfg.ngwords, cfg.ng_whitelist)
    assert ng_chars("児童の健康と福祉について", auto) == 0  # 児童 whitelisted
    assert ng_chars("乳がん検診を受けましょう", auto) == 0
    assert ng_chars("アダルトビデオの広告", auto) == len("アダルトビデオ")


def test_decider_rules_and_thresholds(tmp_path):
    cfg = HostsConfig(ut1_dir=_ut1(tmp_path), ut1_categories=("gambling",))
    d = HostDecider(cfg)
    clean = (2000, 0, 0, 10_000)
    assert d("ok.example.jp", clean) is None
    assert d("ja.wikipedia.org", clean)["reason"] == R_PATTERN
    b = d("casino.example.com", clean)
    assert b["reason"] == R_UT1 and b["detail"] == "gambling" and b["pages"] == 2000
    assert d("ok.example.jp", (2000, 2, 0, 10_000)) is None  # 0.1% exactly: not more than
    assert d("ok.example.jp", (2000, 3, 0, 10_000))["reason"] == R_DATING
    assert d("ok.example.jp", (10, 0, 50, 10_000)) is None  # 0.005 exactly
    assert d("ok.example.jp", (10, 0, 51, 10_000))["reason"] == R_NG


def test_page_counter_and_sum():
    c = PageCounter()
    a = c({"text": "ハッピーメールで出会った。" + "あ" * 100})
    b = c({"text": "セックス" + "い" * 96})
    assert a[:2] == (1, 1) and b[:3] == (1, 0, 4)
    assert add_counts(a, b) == (2, 1, a[2] + 4, a[3] + b[3])
