"""MinHash / shingling / banding: pure functions, checked against datasketch (the reference)."""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from transforms.minhash import (
    MinHashParams, band_keys, detection_probability, exact_hash, jaccard, permutations, shingles,
    signature, signature_datasketch, star_edges,
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


def test_star_edges_m_minus_one():
    assert star_edges(["d", "b", "c", "b", "a"]) == [("b", "a"), ("c", "a"), ("d", "a")]
    assert star_edges(["x"]) == [] and star_edges(["x", "x"]) == []
    members = [f"n{i:05d}" for i in range(1000)]
    assert len(star_edges(members)) == 999


def test_params_doc_band_keys(pages):
    p = MinHashParams()
    assert p.num_perm == 800
    keys = p.doc_band_keys(pages[0]["text"])
    assert len(keys) == 40
    assert p.doc_band_keys("") == []
    # an exact copy shares all bands; an unrelated page shares none
    assert set(keys) == set(p.doc_band_keys(pages[1]["text"]))  # pages[1] is the exact copy
    assert not set(keys) & set(p.doc_band_keys(pages[-1]["text"]))
