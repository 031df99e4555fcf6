"""MinHash / shingling / banding: pure functions, checked against datasketch (the reference)."""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from tests.dedup_reference import signature_datasketch
from transforms.minhash import (
    MinHashParams, band_keys, detection_probability, exact_hash, jaccard, permutations, shingles,
    signature, text_signature,
)

FIXTURE = pathlib.Path(__file__).parents[1] / "data" / "dedup" / "near_dups.jsonl"


@pytest.fixture(scope="module")
def pages():
    return [json.loads(line) for line in FIXTURE.open(encoding="utf-8")]


def test_shingles_are_code_points_not_bytes():
    text = "日本語のテキスト"  # 8 code points, 24 UTF-8 bytes
    sh = shingles(text, 5)
    assert sh == {"日本語のテ", "本語のテキ", "語のテキス", "のテキスト"}
    assert all(len(s) == 5 for s in sh)


def test_shingles_no_word_splitting_and_spaces_kept():
    sh = shingles("東京 タワー", 5)
    assert "東京 タワ" in sh and "京 タワー" in sh and len(sh) == 2


def test_shingles_astral_and_short():
    assert shingles("𠮷野家の牛丼", 5) == {"𠮷野家の牛", "野家の牛丼"}  # one code point, 4 bytes
    assert shingles("短い", 5) == {"短い"}
    assert shingles("", 5) == set()
    assert shingles("あいうえおあいうえお", 5) == {"あいうえお", "いうえおあ", "うえおあい", "えおあいう", "おあいうえ"}


def test_jaccard():
    assert jaccard({1, 2, 3}, {2, 3, 4}) == 0.5
    assert jaccard(set(), set()) == 1.0


def test_exact_hash_normalises_width_and_spaces():
    assert exact_hash("ＡＢＣ　テスト\n\n  行 ") == exact_hash("ABC テスト\n行")
    assert exact_hash("テスト") != exact_hash("テキスト")


def test_permutations_match_datasketch():
    from datasketch import MinHash

    for k, seed in ((800, 1), (400, 7)):
        a, b = permutations(k, seed)
        ref = MinHash(num_perm=k, seed=seed, scheme="affine32").permutations
        assert np.array_equal(a, ref[0]) and np.array_equal(b, ref[1])


@pytest.mark.parametrize("k,seed", [(800, 1), (400, 1), (128, 42)])
def test_signature_identical_to_datasketch_on_real_pages(pages, k, seed):
    for r in pages[::7]:
        sh = shingles(r["text"], 5)
        ours = signature(sh, k, seed)
        assert ours.dtype == np.uint32
        assert np.array_equal(ours, signature_datasketch(sh, k, seed)), r["id"]


def test_signature_identical_for_update_loop_and_empty():
    from datasketch import MinHash

    sh = shingles("重複除去のテストです。MinHashの値が一致すること。", 5)
    m = MinHash(num_perm=256)
    for s in sh:
        m.update(s.encode("utf-8"))
    assert np.array_equal(signature(sh, 256), m.hashvalues)
    assert np.array_equal(signature(set(), 256), MinHash(num_perm=256).hashvalues)


def test_signature_blocking_does_not_change_values(pages):
    sh = shingles(pages[0]["text"])
    assert np.array_equal(signature(sh, 800, block=7), signature(sh, 800, block=100000))


def test_band_keys():
    rng = np.random.default_rng(0)
    sig = rng.integers(0, 2 ** 32, 800, dtype=np.uint32)
    keys = band_keys(sig, 40, 20)
    assert [b for b, _ in keys] == list(range(40))
    assert keys == band_keys(sig.copy(), 40, 20)
    other = sig.copy()
    other[45] ^= 1  # value 45 lies in band 2 (rows 40..59)
    diff = [i for i, (x, y) in enumerate(zip(keys, band_keys(other, 40, 20))) if x != y]
    assert diff == [2]
    assert all(-(2 ** 63) <= k < 2 ** 63 for _, k in keys)
    with pytest.raises(ValueError):
        band_keys(sig[:100], 40, 20)


def test_detection_probability_paper_and_code_settings():
    assert detection_probability(0.9, 20, 20) == pytest.approx(0.925, abs=1e-3)
    assert detection_probability(0.9, 40, 20) == pytest.approx(0.994, abs=1e-3)




def test_params_doc_band_keys(pages):
    p = MinHashParams()
    assert p.num_perm == 800
    keys = p.doc_band_keys(pages[0]["text"])
    assert len(keys) == 40
    assert p.doc_band_keys("") == []
    # an exact copy shares all bands; an unrelated page shares none
    assert set(keys) == set(p.doc_band_keys(pages[1]["text"]))  # pages[1] is the exact copy
    assert not set(keys) & set(p.doc_band_keys(pages[-1]["text"]))


# ---- compiled kernel (transforms/minhash_kernel.py): same values as datasketch, from the text
def _datasketch_text(text: str, k: int, seed: int = 1, n: int = 5) -> np.ndarray:
    """datasketch on the shingle set, with lone surrogates encoded as the kernel encodes them."""
    from datasketch import MinHash

    m = MinHash(num_perm=k, seed=seed, scheme="affine32")
    m.update_batch([s.encode("utf-8", "surrogatepass") for s in shingles(text, n)])
    return np.asarray(m.hashvalues, dtype=np.uint32)


@pytest.mark.parametrize("k,seed", [(800, 1), (400, 1), (100, 42)])
def test_kernel_identical_to_datasketch_on_real_pages(pages, k, seed):
    from transforms import minhash_kernel

    assert minhash_kernel.available()
    for r in pages[::3]:
        ours = text_signature(r["text"], k, seed)
        assert ours.dtype == np.uint32
        assert np.array_equal(ours, _datasketch_text(r["text"], k, seed)), r["id"]


CASES = [
    ("empty", ""),
    ("one char", "あ"),
    ("shorter than n", "短い"),
    ("exactly n", "あいうえお"),
    ("repeats", "あいうえおあいうえお" * 30),
    ("ascii", "MinHash over character 5-grams, 1 byte each."),
    ("two-byte", "Ünïcödé ßtraße ἀρετή Ωμέγα"),
    ("astral", "𠮷野家の牛丼と𩸽の塩焼き🍣🍣🍣"),
    ("all astral (20-byte shingles)", "🍣🍤🍙🍘🍥🍡" * 5),
    ("lone surrogate", "abc\ud800defghij"),
    ("newlines and spaces", "東京 タワー\n\n大阪　城\t京都"),
    ("NUL and controls", "a\x00b\x01c\x7fd\x80e"),
]


@pytest.mark.parametrize("name,text", CASES, ids=[c[0] for c in CASES])
def test_kernel_identical_to_datasketch_edge_cases(name, text):
    assert np.array_equal(text_signature(text, 256), _datasketch_text(text, 256)), name


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 13])
def test_kernel_every_ngram_width_fitting_one_block(n):
    text = "日本語の𠮷テキストとEnglish words, ü and 🍣." * 3
    assert np.array_equal(text_signature(text, 128, ngram=n), _datasketch_text(text, 128, n=n)), n


def test_kernel_random_unicode_texts():
    rng = np.random.default_rng(7)
    pools = [(0x20, 0x7F), (0xA0, 0x800), (0x3040, 0x30FF), (0x4E00, 0x9FFF), (0x1F300, 0x1F5FF), (0x20000, 0x2A6DF)]
    for _ in range(40):
        lo, hi = pools[rng.integers(len(pools))]
        lo2, hi2 = pools[rng.integers(len(pools))]
        cps = np.concatenate([rng.integers(lo, hi, rng.integers(0, 60)), rng.integers(lo2, hi2, rng.integers(0, 60))])
        text = "".join(map(chr, rng.permutation(cps)))
        assert np.array_equal(text_signature(text, 64), _datasketch_text(text, 64)), repr(text)


def test_long_ngram_falls_back_to_numpy_path():
    text = "長いn-gramはSHA-1の2ブロックを要する。" * 4  # n = 20: up to 60 bytes per shingle
    assert np.array_equal(text_signature(text, 64, ngram=20), _datasketch_text(text, 64, n=20))


def test_text_signature_equals_set_signature(pages):
    for r in pages[:10]:
        assert np.array_equal(text_signature(r["text"], 800), signature(shingles(r["text"]), 800))
