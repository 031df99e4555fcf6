"""Compiled MinHash kernel: text → datasketch-identical signature in one pass, no Python per shingle.

:func:`transforms.minhash.signature` pays one ``hashlib.sha1`` call per distinct shingle from
Python (about 0.5 µs each) and an (n × K) numpy product; that caps it at a few times
``datasketch.MinHash.update_batch``. This module does the same arithmetic in a numba-compiled
loop over the text:

1. the text is encoded to UTF-8 once; each character 5-gram is a byte range of it, loaded as
   big-endian words straight into a 64-byte SHA-1 block
   (FIPS 180-4 §5.1.1 padding: 0x80, zeros, the message length in bits, big-endian);
2. SHA-1 (FIPS 180-4 §6.1.2) runs on 64 blocks at once, lane by lane, so the compiler can use
   SIMD registers; the first four digest bytes read little-endian are datasketch's
   ``sha1_hash32``;
3. the MurmurHash3 finalizer and the affine32 permutations ``a_k * h + b_k mod 2^32`` are
   applied and min-reduced into the signature, as in ``datasketch.MinHash.update_batch``
   (scheme ``affine32``, datasketch 2.0).

Repeated shingles are hashed again instead of being removed first: the minimum is the same, and
re-hashing is cheaper than building a set. The values are identical to datasketch's for the same
shingle set, seed and K (tests/unit/test_minhash.py proves it on real pages, astral characters,
surrogates and short texts). A shingle longer than 55 UTF-8 bytes needs a second SHA-1 block;
only ``ngram`` ≤ 13 is compiled here and :func:`available` says whether a text can use it.
"""
from __future__ import annotations

import numpy as np

try:  # numba is a core dependency; the pure-numpy path stays as the fallback and the reference
    import numba
    from numba import njit
except ImportError:  # pragma: no cover - exercised only where numba has no wheel
    numba = None

MAX_NGRAM = 13  # 13 code points x 4 bytes = 52 bytes: one SHA-1 block (≤ 55 message bytes)
LANES = 64  # measured: 64 lanes (20 KB of schedule) is the fastest width here

_H0 = np.uint32(0x67452301)
_H1 = np.uint32(0xEFCDAB89)
_H2 = np.uint32(0x98BADCFE)
_H3 = np.uint32(0x10325476)
_H4 = np.uint32(0xC3D2E1F0)
_K0 = np.uint32(0x5A827999)
_K1 = np.uint32(0x6ED9EBA1)
_K2 = np.uint32(0x8F1BBCDC)
_K3 = np.uint32(0xCA62C1D6)
_M1 = np.uint32(0x85EBCA6B)
_M2 = np.uint32(0xC2B2AE35)
_U1 = np.uint32(1)
_U5 = np.uint32(5)
_U8 = np.uint32(8)
_U13 = np.uint32(13)
_U16 = np.uint32(16)
_U24 = np.uint32(24)
_U27 = np.uint32(27)
_U30 = np.uint32(30)
_U31 = np.uint32(31)
_UFF = np.uint32(0xFF)


def available() -> bool:
    return numba is not None


if numba is not None:

    @njit(cache=True, nogil=True)
    def _sha1_lanes(w, st, h_out):
        """SHA-1 (FIPS 180-4 §6.1.2) of LANES one-block messages at once. ``w``: uint32[80, LANES],
        rows 0..15 the message words; ``st``: uint32[5, LANES] scratch. Writes ``sha1_hash32``
        (the first 4 digest bytes read little-endian) of each lane into ``h_out``. Lanes are the
        inner loops so that the compiler keeps them in SIMD registers."""
        for t in range(16, 80):
            for j in range(LANES):
                x = w[t - 3, j] ^ w[t - 8, j] ^ w[t - 14, j] ^ w[t - 16, j]
                w[t, j] = np.uint32(x << _U1) | (x >> _U31)
        for j in range(LANES):
            st[0, j] = _H0
            st[1, j] = _H1
            st[2, j] = _H2
            st[3, j] = _H3
            st[4, j] = _H4
        for t in range(80):
            if t < 20:
                k = _K0
            elif t < 40:
                k = _K1
            elif t < 60:
                k = _K2
            else:
                k = _K3
            for j in range(LANES):
                a = st[0, j]
                b = st[1, j]
                c = st[2, j]
                d = st[3, j]
                e = st[4, j]
                if t < 20:
                    f = (b & c) | (~b & d)
                elif t < 40 or t >= 60:
                    f = b ^ c ^ d
                else:
                    f = (b & c) | (b & d) | (c & d)
                tmp = np.uint32(np.uint32(np.uint32(a << _U5) | (a >> _U27)) + f + e + k + w[t, j])
                st[4, j] = d
                st[3, j] = c
                st[2, j] = np.uint32(b << _U30) | (b >> np.uint32(2))
                st[1, j] = a
                st[0, j] = tmp
        for j in range(LANES):
            h = np.uint32(st[0, j] + _H0)
            h_out[j] = np.uint32(((h & _UFF) << _U24) | (((h >> _U8) & _UFF) << _U16) |
                                 (((h >> _U16) & _UFF) << _U8) | (h >> _U24))

    @njit(cache=True, nogil=True)
    def _signature(u8, ngram, pa, pb, sig):
        """Min-reduce the hash of every character ``ngram``-gram of the UTF-8 text ``u8``
        (uint8, followed by 4 zero bytes) into ``sig`` (uint32[K], initialised by the caller)."""
        nb = u8.shape[0] - 4
        if nb <= 0:
            return
        # byte offset of each code point (UTF-8 lead bytes), plus the end
        starts = np.empty(nb + 1, dtype=np.int64)
        n = 0
        for p in range(nb):
            if (u8[p] & 0xC0) != 0x80:
                starts[n] = p
                n += 1
        starts[n] = nb
        # big-endian 32-bit word starting at every byte offset
        sw = np.empty(nb, dtype=np.uint32)
        for p in range(nb):
            sw[p] = (np.uint32(u8[p]) << _U24) | (np.uint32(u8[p + 1]) << _U16) | \
                (np.uint32(u8[p + 2]) << _U8) | np.uint32(u8[p + 3])
        width = ngram if n >= ngram else n  # a text shorter than ngram is one shingle: itself
        count = n - width + 1
        kk = sig.shape[0]
        w = np.zeros((80, LANES), dtype=np.uint32)
        st = np.empty((5, LANES), dtype=np.uint32)
        hv = np.empty(LANES, dtype=np.uint32)
        for g in range(0, count, LANES):
            lanes = min(LANES, count - g)
            for j in range(lanes):
                # FIPS 180-4 §5.1.1 padding of the shingle's bytes into one block
                off = starts[g + j]
                length = starts[g + j + width] - off
                full = length >> 2
                for t in range(full):
                    w[t, j] = sw[off + 4 * t]
                rem = length & 3
                if rem == 0:
                    w[full, j] = np.uint32(0x80000000)
                else:
                    keep = np.uint32(0xFFFFFFFF) << np.uint32(32 - 8 * rem)
                    w[full, j] = (sw[off + 4 * full] & keep) | (np.uint32(0x80) << np.uint32(24 - 8 * rem))
                for t in range(full + 1, 15):
                    w[t, j] = 0
                w[15, j] = np.uint32(length * 8)
            _sha1_lanes(w, st, hv)
            for j in range(lanes):  # MurmurHash3 fmix32, as datasketch's one-shot pre-mix
                h = hv[j]
                h = h ^ (h >> _U16)
                h = np.uint32(h * _M1)
                h = h ^ (h >> _U13)
                h = np.uint32(h * _M2)
                hv[j] = h ^ (h >> _U16)
            j = 0
            while j + 8 <= lanes:  # eight hashes per pass over the signature: fewer loads/stores
                h0 = hv[j]
                h1 = hv[j + 1]
                h2 = hv[j + 2]
                h3 = hv[j + 3]
                h4 = hv[j + 4]
                h5 = hv[j + 5]
                h6 = hv[j + 6]
                h7 = hv[j + 7]
                for k in range(kk):
                    ak = pa[k]
                    bk = pb[k]
                    m0 = min(np.uint32(ak * h0 + bk), np.uint32(ak * h1 + bk))
                    m1 = min(np.uint32(ak * h2 + bk), np.uint32(ak * h3 + bk))
                    m2 = min(np.uint32(ak * h4 + bk), np.uint32(ak * h5 + bk))
                    m3 = min(np.uint32(ak * h6 + bk), np.uint32(ak * h7 + bk))
                    sig[k] = min(sig[k], min(min(m0, m1), min(m2, m3)))
                j += 8
            while j < lanes:
                h0 = hv[j]
                for k in range(kk):
                    sig[k] = min(sig[k], np.uint32(pa[k] * h0 + pb[k]))
                j += 1


def utf8_padded(text: str) -> np.ndarray:
    """The text's UTF-8 bytes (lone surrogates kept, as ``surrogatepass``) and 4 zero bytes."""
    return np.frombuffer(text.encode("utf-8", "surrogatepass") + b"\0\0\0\0", dtype=np.uint8)


def text_signature(text: str, ngram: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """MinHash signature of the set of character ``ngram``-grams of ``text`` (see module doc)."""
    if numba is None or ngram > MAX_NGRAM or ngram < 1:
        raise ValueError("compiled kernel unavailable for this ngram; use minhash.signature")
    sig = np.full(a.shape[0], 0xFFFFFFFF, dtype=np.uint32)
    _signature(utf8_padded(text), ngram, a, b, sig)
    return sig
