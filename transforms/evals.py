"""The evaluation-item index that decontamination matches against: built once, outside the DAG
(``python -m pipeline evals-index``), loaded once per worker. No Beam here.

**Text normalisation** (:func:`normalize`, ``fold-lower-word-v1``): full-width ASCII and
half-width katakana folded as NFKC does (only those runs are NFKC'd: NFKC of a whole page costs
~0.4 ms per 3,000 characters, more than everything else together), lower case, then every
character that is not a letter or a digit (``[\\W_]``: spaces, line breaks, punctuation, brackets)
removed. Whitespace, punctuation and width edits of a leaked item therefore do not change it.

**Parts.** Each item is a set of *keys* (alternatives); a key is a list of *parts* (texts) that
must all be found. What is matched follows the caveats of the suites' ``SOURCES.md``:

- the question (JSQuAD, JaQuAD, NIILC, JCommonsenseQA, JMMLU, MGSM, JEMHopQA), never the choices
  or answers alone (one word or one number); a question shorter than ``min_key_chars`` (16)
  after normalisation (「マーケティングリサーチとは?」 is ordinary text) is extended by what follows
  it in the published item (choices, or the answer), or, where a passage follows it (JSQuAD,
  JaQuAD), must be found together with that passage;
- JNLI: premise **and** hypothesis together (short generic captions);
- Japanese MT-Bench: either turn; JHumanEval: the Japanese lines of the docstring (the code is
  English HumanEval's); WMT20: the reference translation (written for the test set);
- *passages*: the Wikipedia contexts (JSQuAD, JaQuAD, NIILC) and the WMT20 source sentences,
  real web text that appears legitimately in a crawl.

**N-grams.** Every character n-gram of every part (default n = 10), as a 64-bit polynomial hash.
Item n-grams that also occur in any passage are dropped (a page with only a passage must never
look like an item), and n-grams shared by more than ``max_df`` distinct parts are dropped
(boilerplate such as 「次のうち正しいものはどれか」). A question left with fewer than
``min_ngrams`` (3) n-grams (one copied from its passage) is matched only together with the
passage that follows it in the item, if there is one. A part is found in a page when at least
``min_fraction`` of its remaining n-grams are, and at least ``min_ngrams`` (or all it has, if
fewer) (:mod:`transforms.decontaminate`).
"""
from __future__ import annotations

import io
import json
import os
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

FORMAT = "swallow-evals-index"
VERSION = 1
NORMALIZATION = "fold-lower-word-v1"
DEFAULT_NGRAM = 10
DEFAULT_MIN_KEY_CHARS = 16
DEFAULT_MAX_DF = 4
DEFAULT_MIN_NGRAMS = 3

ITEM, PASSAGE = 0, 1

_FOLD_RUN = re.compile("[\uff01-\uffef]+")
_DROP = re.compile(r"[\W_]+")
_JA_CHAR = re.compile("[\u3041-\u3096\u30a1-\u30fa\u3400-\u9fff]")
_BASE = np.uint64(0x100000001B3)  # FNV-64 prime, as the polynomial base


def normalize(text: str) -> str:
    """Folded, lower-cased, letters and digits only (see the module docstring)."""
    if _FOLD_RUN.search(text):
        text = _FOLD_RUN.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    return _DROP.sub("", text).lower()


def ngram_hashes(norm: str, n: int) -> np.ndarray:
    """Hashes (uint64) of the character n-grams of normalised text, in order (may repeat)."""
    codes = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    count = len(codes) - n + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    h = codes[:count].copy()
    for j in range(1, n):
        h *= _BASE
        h += codes[j:count + j]
    return h


def _joined(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "\n".join(_joined(v) for v in value)
    return str(value)


def item_parts(row: dict, min_key_chars: int = DEFAULT_MIN_KEY_CHARS) -> tuple[list[list[str]], list[str]]:
    """``(keys, passages)`` of one evaluation item in the ``evals/`` format."""
    context = row.get("context") or ""
    passages = [context] if context else []
    if "premise" in row and "hypothesis" in row:  # JNLI: the pair, never one caption
        return [[row["premise"], row["hypothesis"]]], passages
    if "reference" in row and "source" in row:  # WMT20: the translation made for the test set
        return [[row["reference"]]], [row["source"]]
    question = row.get("question")
    if isinstance(question, list):  # Japanese MT-Bench: either turn
        return [[turn] for turn in question if turn], passages
    question = question or ""
    if "entry_point" in row:  # JHumanEval: the Japanese docstring lines of the prompt
        ja = "\n".join(line for line in question.splitlines() if _JA_CHAR.search(line))
        return ([[ja]] if ja else []), passages
    if not question:
        return [], passages
    if len(normalize(question)) >= min_key_chars:
        return [[question]], passages
    if context and context in (row.get("text") or ""):  # a passage follows: both must be found
        return [[question, context]], passages
    tail = row.get("choices") or row.get("answers") or row.get("answer")
    return [[question + "\n" + _joined(tail)]], passages


def iter_items(evals_dir: str):
    """Rows of every ``*.jsonl`` in ``evals_dir`` (sorted by file name, then line)."""
    for name in sorted(os.listdir(evals_dir)):
        if name.endswith(".jsonl"):
            with open(os.path.join(evals_dir, name), encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        yield json.loads(line)


@dataclass
class EvalsIndex:
    """CSR tables: ``hashes`` (sorted, unique) → ``part_ids[offsets[i]:offsets[i+1]]``; per part
    its kind (ITEM/PASSAGE) and number of n-grams kept; ``items`` = ``[suite, id, keys]``;
    ``passage_owner[p]`` = ``[suite, first item id, items sharing it]`` for passage parts."""

    ngram: int
    hashes: np.ndarray
    offsets: np.ndarray
    part_ids: np.ndarray
    part_kind: np.ndarray
    part_ngrams: np.ndarray
    items: list
    passage_owner: dict
    meta: dict

    def part_items(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for i, (_, _, keys) in enumerate(self.items):
            for key in keys:
                for p in key:
                    out.setdefault(p, []).append(i)
        return out

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.hashes, self.offsets, self.part_ids, self.part_kind, self.part_ngrams))


def build(rows, ngram: int = DEFAULT_NGRAM, min_key_chars: int = DEFAULT_MIN_KEY_CHARS,
          max_df: int = DEFAULT_MAX_DF, min_ngrams: int = DEFAULT_MIN_NGRAMS) -> EvalsIndex:
    """The index of evaluation ``rows`` (dicts in the ``evals/`` format)."""
    if ngram < 4:
        raise ValueError(f"ngram {ngram}: need at least 4 characters")
    part_of: dict[tuple[int, str], int] = {}
    kinds: list[int] = []
    texts: list[str] = []
    items: list = []
    item_passage: list = []  # the passage printed inside each item (JSQuAD, JaQuAD), or None
    owners: dict[int, list] = {}
    suites: dict[str, dict[str, int]] = {}

    def part(kind: int, text: str) -> int | None:
        norm = normalize(text)
        if len(norm) < ngram:
            return None
        key = (kind, norm)
        if key not in part_of:
            part_of[key] = len(kinds)
            kinds.append(kind)
            texts.append(norm)
        return part_of[key]

    for row in rows:
        suite, ident = str(row["suite"]), str(row["id"])
        stats = suites.setdefault(suite, {"items": 0, "matchable": 0, "passages": 0})
        stats["items"] += 1
        keys, passages = item_parts(row, min_key_chars)
        ids = [[part(PASSAGE if t in passages else ITEM, t) for t in key] for key in keys]
        ids = [k for k in ids if k and all(p is not None for p in k)]
        context = row.get("context") or ""
        follows = part(PASSAGE, context) if context and context in (row.get("text") or "") else None
        items.append([suite, ident, ids])
        item_passage.append(follows)
        for t in passages:
            p = part(PASSAGE, t)
            if p is not None:
                if p not in owners:
                    owners[p] = [suite, ident, 0]
                    stats["passages"] += 1
                owners[p][2] += 1

    grams = [np.unique(ngram_hashes(t, ngram)) for t in texts]
    kinds_arr = np.asarray(kinds, dtype=np.uint8)
    all_h = np.concatenate(grams) if grams else np.empty(0, np.uint64)
    all_p = np.repeat(np.arange(len(grams), dtype=np.int32), [len(g) for g in grams])
    # an item n-gram that a passage has cannot tell a leaked item from a copy of Wikipedia
    is_item = kinds_arr[all_p] == ITEM
    in_passage = np.isin(all_h, all_h[~is_item])
    all_h, all_p = all_h[~(is_item & in_passage)], all_p[~(is_item & in_passage)]
    order = np.argsort(all_h, kind="stable")
    all_h, all_p = all_h[order], all_p[order]
    uniq, df = np.unique(all_h, return_counts=True)
    keep_gram = df <= max_df  # boilerplate shared by many parts says nothing about one item
    keep_row = np.repeat(keep_gram, df)
    all_h, all_p = all_h[keep_row], all_p[keep_row]
    uniq, df = uniq[keep_gram], df[keep_gram]
    offsets = np.zeros(len(uniq) + 1, dtype=np.int64)
    np.cumsum(df, out=offsets[1:])
    part_ngrams = np.bincount(all_p, minlength=len(kinds)).astype(np.int32)

    # A question left with fewer than min_ngrams n-grams (copied from its passage, or short) would
    # be "found" on a few characters of ordinary text: alone it cannot be a key; with the passage
    # that follows it in the item, it can (both must be found). Otherwise the key is dropped.
    for it, follows in zip(items, item_passage):
        keys = []
        for key in it[2]:
            if any(kinds[p] == PASSAGE for p in key) or all(part_ngrams[p] >= min_ngrams for p in key):
                keys.append(key)
            elif follows is not None:
                keys.append(key + [follows])
        it[2] = [k for k in keys if all(part_ngrams[p] >= 1 for p in k)]
    for suite, stats in suites.items():
        stats["matchable"] = sum(1 for s, _, keys in items if s == suite and keys)
    meta = {"format": FORMAT, "version": VERSION, "normalization": NORMALIZATION, "ngram": ngram,
            "min_key_chars": min_key_chars, "max_df": max_df, "min_ngrams": min_ngrams, "suites": suites,
            "parts": len(kinds), "item_parts": int((kinds_arr == ITEM).sum()),
            "passage_parts": int((kinds_arr == PASSAGE).sum()), "ngrams": int(len(uniq)),
            "ngrams_dropped_common": int((~keep_gram).sum())}
    return EvalsIndex(ngram, uniq, offsets, all_p, kinds_arr, part_ngrams, items,
                      {int(k): v for k, v in owners.items()}, meta)


def save(index: EvalsIndex, path: str, sources: dict | None = None) -> int:
    """Write ``index`` as one ``.npz`` (numpy arrays + a JSON document; no pickles) to ``path`` on
    any filesystem Beam knows; returns its size in bytes."""
    from apache_beam.io.filesystems import FileSystems

    meta = dict(index.meta, sources=sources or {})
    doc = {"meta": meta, "items": index.items,
           "passage_owner": [[k, *v] for k, v in sorted(index.passage_owner.items())]}
    buf = io.BytesIO()
    np.savez_compressed(buf, hashes=index.hashes, offsets=index.offsets, part_ids=index.part_ids,
                        part_kind=index.part_kind, part_ngrams=index.part_ngrams,
                        doc=np.frombuffer(json.dumps(doc, ensure_ascii=False).encode("utf-8"), dtype=np.uint8))
    data = buf.getvalue()
    with FileSystems.create(path) as f:
        f.write(data)
    return len(data)


def load(path: str) -> EvalsIndex:
    """Read an index written by :func:`save` (local path or any Beam filesystem URI)."""
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path) as f:
        data = f.read()
    z = np.load(io.BytesIO(data), allow_pickle=False)
    doc = json.loads(z["doc"].tobytes().decode("utf-8"))
    meta = doc["meta"]
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ValueError(f"{path}: not a {FORMAT} v{VERSION} file (rebuild it with python -m pipeline evals-index)")
    if meta.get("normalization") != NORMALIZATION:
        raise ValueError(f"{path}: built with normalisation {meta.get('normalization')!r}, this code uses "
                         f"{NORMALIZATION!r}; rebuild it")
    owners = {int(p): [s, i, n] for p, s, i, n in doc["passage_owner"]}
    return EvalsIndex(int(meta["ngram"]), z["hashes"], z["offsets"], z["part_ids"], z["part_kind"],
                      z["part_ngrams"], doc["items"], owners, meta)
