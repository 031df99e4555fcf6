"""MinHash over Unicode character n-grams, LSH banding and exact Jaccard: pure functions, no Beam.

Sources
-------
- Swallow corpus (Okazaki et al., NLP2024, §3.5 "重複除去"): MinHash over character 5-grams,
  LSH with 20 bands of 20 values (K = 400); the newest crawl of a duplicate set is kept.
- doubri (Swallow's public dedup code, https://github.com/swallow-llm/doubri): K = 800 hash
  values grouped as 40 buckets of 20 values. doubri calls the number of values per bucket ``b``
  and the number of buckets ``r`` (the reverse of the usual notation); here ``bands`` is the
  number of bands and ``rows`` the number of values per band, as in Leskovec et al., MMDS §3.4.
- datasketch 2.0 (``datasketch.MinHash``, scheme ``affine32``) is the reference implementation:
  ``h = sha1(shingle.encode('utf-8'))[:4]`` read little-endian as uint32, pre-mixed once by the
  32-bit MurmurHash3 finalizer (``_fmix``), then ``phv_k = a_k * h + b_k mod 2^32`` with
  ``a_k`` odd and ``(a, b)`` drawn from ``np.random.RandomState(seed)`` exactly as
  ``MinHash._init_permutations`` does; the signature is the element-wise minimum.
  :func:`signature` reproduces this bit for bit (proved by tests/unit/test_minhash.py), only
  faster: one hashlib call per distinct shingle and a cache-blocked numpy min-reduction.
  :func:`text_signature` goes from the text straight to the same values in compiled code
  (:mod:`transforms.minhash_kernel`, numba): SHA-1 of 64 shingles at once, no Python per shingle.
"""
from __future__ import annotations

import hashlib
import struct
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

import numpy as np

_U32_MAX = np.uint32(0xFFFFFFFF)
# MurmurHash3 fmix32 constants, as in datasketch.minhash._FMIX_CONSTANTS[32].
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))


# ---------------------------------------------------------------------------------- shingling
def shingles(text: str, n: int = 5) -> set[str]:
    """The set of Unicode *character* n-grams of ``text`` (code points, not bytes; no word
    splitting, newlines included as characters). A non-empty text shorter than ``n`` is one
    shingle (itself), so short pages still get a signature; the empty text has none."""
    if not text:
        return set()
    if len(text) <= n:
        return {text}
    return {text[i:i + n] for i in range(len(text) - n + 1)}


def jaccard(a: set, b: set) -> float:
    """Exact Jaccard similarity of two sets (two empty sets: 1.0)."""
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def normalise_for_exact(text: str) -> str:
    """Normalisation before exact hashing: NFKC, whitespace runs collapsed, lines stripped,
    empty lines dropped. Mirrors that differ only in spacing or full/half-width forms collide."""
    text = unicodedata.normalize("NFKC", text or "")
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def exact_hash(text: str) -> str:
    """128-bit BLAKE2b hex digest of the normalised text."""
    return hashlib.blake2b(normalise_for_exact(text).encode("utf-8"), digest_size=16).hexdigest()


# ---------------------------------------------------------------------------------- signatures
@lru_cache(maxsize=16)
def permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) uint32 arrays exactly as ``datasketch.MinHash(num_perm, seed, scheme='affine32')``
    draws them (``MinHash._init_permutations``)."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = _FMIX32
    h = h ^ (h >> s1)
    h = h * m1
    h = h ^ (h >> s2)
    h = h * m2
    return h ^ (h >> s3)


def shingle_hashes(shingle_set: Iterable[str]) -> np.ndarray:
    """uint32 ``sha1_hash32`` of each shingle's UTF-8 bytes (datasketch's default hashfunc)."""
    sha1 = hashlib.sha1
    digests = b"".join([sha1(b).digest() for b in map(str.encode, shingle_set)])
    # 20-byte digests back to back: the first 4 bytes of each, little-endian (struct "<I").
    return np.frombuffer(digests, dtype="<u4")[::5].astype(np.uint32)


def signature(shingle_set: Iterable[str], num_perm: int, seed: int = 1, block: int = 256) -> np.ndarray:
    """MinHash signature (uint32[num_perm]) identical to datasketch affine32 for the same set.

    The (shingles x permutations) product is reduced in blocks of ``block`` shingles with
    in-place ufuncs, so the working set stays in cache instead of materialising n x K arrays.
    """
    a, b = permutations(num_perm, seed)
    sig = np.full(num_perm, _U32_MAX, dtype=np.uint32)
    hv = shingle_hashes(shingle_set)
    if hv.size == 0:
        return sig
    hv = _fmix32(hv)
    buf = np.empty((min(block, hv.size), num_perm), dtype=np.uint32)
    for start in range(0, hv.size, block):
        h = hv[start:start + block, None]
        out = buf[: h.shape[0]]
        np.multiply(h, a, out=out)
        np.add(out, b, out=out)
        np.minimum(sig, out.min(axis=0), out=sig)
    return sig


def text_signature(text: str, num_perm: int, seed: int = 1, ngram: int = 5) -> np.ndarray:
    """MinHash signature of ``shingles(text, ngram)``, equal to :func:`signature` and to
    datasketch: compiled (:mod:`transforms.minhash_kernel`) where numba is installed and the
    n-gram fits one SHA-1 block, else the numpy path. The empty text gives the all-ones
    signature (no shingle), as an empty datasketch MinHash does."""
    from transforms import minhash_kernel

    a, b = permutations(num_perm, seed)
    if minhash_kernel.available() and 1 <= ngram <= minhash_kernel.MAX_NGRAM:
        return minhash_kernel.text_signature(text, ngram, a, b)
    return signature(shingles(text, ngram), num_perm, seed)


# ---------------------------------------------------------------------------------- banding
def band_keys(sig: np.ndarray, bands: int, rows: int) -> list[tuple[int, int]]:
    """LSH band keys: ``(band index, 64-bit hash of that band's ``rows`` values)``.

    The 64-bit key is the first 8 bytes of BLAKE2b of the band's little-endian bytes, read as a
    signed int64 (fits a Parquet int64 column). Two documents share a key iff (up to a 2^-64
    collision) their signatures agree on every value of that band.
    """
    if sig.shape[0] < bands * rows:
        raise ValueError(f"signature has {sig.shape[0]} values, need bands*rows={bands * rows}")
    raw = np.ascontiguousarray(sig[: bands * rows], dtype="<u4").tobytes()
    width = rows * 4
    out = []
    for i in range(bands):
        d = hashlib.blake2b(raw[i * width:(i + 1) * width], digest_size=8).digest()
        out.append((i, struct.unpack("<q", d)[0]))
    return out


def detection_probability(s: float, bands: int, rows: int) -> float:
    """Theoretical LSH S-curve: P(candidate | Jaccard s) = 1 - (1 - s^rows)^bands."""
    return 1.0 - (1.0 - s ** rows) ** bands


@dataclass(frozen=True)
class MinHashParams:
    """Everything that defines a signature and its bands (kept together so runs compare)."""

    ngram: int = 5
    bands: int = 40
    rows: int = 20
    seed: int = 1

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows

    def doc_band_keys(self, text: str) -> list[tuple[int, int]]:
        if not text:
            return []
        return band_keys(text_signature(text, self.num_perm, self.seed, self.ngram), self.bands, self.rows)
