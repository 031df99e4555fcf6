"""Decontamination against the Japanese evaluation suites: drop pages that contain benchmark items.

The rule (n-grams and parts: :mod:`transforms.evals`): a page's text is normalised, its character
n-grams hashed, and each evaluation *part* counts how many of its n-grams the page has. A part
is found when at least ``min_fraction`` of them are (a leaked question survives light edits and
partial quotes; 13-gram overlap is GPT-3's test, Brown et al. 2020 App. C, on words; on
characters, with a fraction, as in the Llama 2 paper's contamination analysis, Touvron et al.
2023 App. A.6). Then:

- an **item** is found when all parts of one of its keys are: the page is rejected with
  ``eval_contamination_v1``, and the reject row names the suite and item id (``eval_suite``,
  ``eval_item``; the item with the most n-grams found when several are);
- a **passage** alone (Wikipedia context of JSQuAD/JaQuAD/NIILC, WMT20 source sentence) is
  real web text: the page is kept and counted (``eval_passage_v1``, column ``eval_passage`` =
  ``suite/item id`` of the first item that uses the passage), or dropped with that reason when
  ``drop_passage_matches`` is set.

Measured (``bench/decontaminate_bench.py``): speed with all 12 suites loaded, index memory, and
recall of injected items per suite with false drops on clean and passage-only pages.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transforms.config_fields import check, refuse
from transforms.evals import ITEM, PASSAGE, EvalsIndex, load, ngram_hashes, normalize

STAGE = "decontaminate"
R_ITEM = "eval_contamination_v1"
R_PASSAGE = "eval_passage_v1"


@dataclass(frozen=True)
class DecontaminateConfig:
    """``index``: an index file from ``python -m pipeline evals-index`` (``--evals_index``); None
    skips the stage (the report says so). ``min_fraction``: share of a part's n-grams a page must
    have (0.5: half a question, or a question with edits, still counts). ``drop_passage_matches``:
    also drop pages that have only a passage (default: keep and count them)."""

    index: str | None = None
    min_fraction: float = 0.5
    drop_passage_matches: bool = False

    def __post_init__(self):
        check(self, unit_interval=("min_fraction",))
        if self.min_fraction == 0:  # every page would match every item
            refuse(self, "min_fraction", "must be above 0, got 0")


@dataclass(frozen=True)
class Match:
    """Items found (``(suite, id, n-grams found)``, best first) and passages found (``(suite, id)``)."""

    items: tuple = ()
    passages: tuple = ()


NO_MATCH = Match()
BLOOM_BITS = 25  # 4 MiB of bits


class Matcher:
    """An :class:`EvalsIndex` ready to match pages (built once per worker)."""

    def __init__(self, index: EvalsIndex, min_fraction: float = 0.5):
        self.index = index
        self.n = index.ngram
        floor = np.minimum(index.part_ngrams, int(index.meta.get("min_ngrams", 1)))
        self.need = np.maximum(np.maximum(1, floor), np.ceil(index.part_ngrams * min_fraction - 1e-9)).astype(np.int64)
        self.part_items = index.part_items()
        self._last = len(index.hashes) - 1
        # A bit per top-BLOOM_BITS hash prefix: ~4% of a page's n-grams pass it, and only those
        # are looked up by binary search (random probes into ~10 MB cost more than all the rest).
        self._bits = np.zeros(1 << (BLOOM_BITS - 3), dtype=np.uint8)
        top = (index.hashes >> np.uint64(64 - BLOOM_BITS)).astype(np.int64)
        np.bitwise_or.at(self._bits, top >> 3, (1 << (top & 7)).astype(np.uint8))

    def match(self, text: str) -> Match:
        ix = self.index
        if self._last < 0:
            return NO_MATCH
        grams = ngram_hashes(normalize(text), self.n)
        top = (grams >> np.uint64(64 - BLOOM_BITS)).astype(np.int64)
        grams = grams[(self._bits[top >> 3] >> (top & 7).astype(np.uint8)) & 1 == 1]
        if not len(grams):
            return NO_MATCH
        grams = np.unique(grams)
        pos = np.minimum(np.searchsorted(ix.hashes, grams), self._last)
        pos = pos[ix.hashes[pos] == grams]
        if not len(pos):
            return NO_MATCH
        starts, ends = ix.offsets[pos], ix.offsets[pos + 1]
        parts = np.concatenate([ix.part_ids[s:e] for s, e in zip(starts.tolist(), ends.tolist())])
        counts = np.bincount(parts)
        found_parts = np.nonzero(counts[: len(self.need)] >= self.need[: len(counts)])[0]
        if not len(found_parts):
            return NO_MATCH
        found = set(found_parts.tolist())
        items = {}
        passages = []
        for p in sorted(found):
            if ix.part_kind[p] == PASSAGE:
                suite, ident, _ = ix.passage_owner[p]
                passages.append((suite, ident))
                continue
            for i in self.part_items.get(p, ()):
                suite, ident, keys = ix.items[i]
                for key in keys:
                    if all(q in found for q in key):
                        score = int(sum(counts[q] for q in key))
                        items[i] = max(items.get(i, 0), score)
        ranked = sorted(((ix.items[i][0], ix.items[i][1], s) for i, s in items.items()),
                        key=lambda t: (-t[2], t[0], t[1]))
        return Match(tuple(ranked), tuple(sorted(set(passages))))


class DecontaminateRule:
    """The stage's rule: adds ``eval_passage`` (kept pages), ``eval_suite``/``eval_item`` (rejects)."""

    name = STAGE

    def __init__(self, cfg: DecontaminateConfig = DecontaminateConfig()):
        self.cfg = cfg
        self._matcher: Matcher | None = None

    def __getstate__(self):  # the index is loaded on the worker, never shipped in the job graph
        return {"cfg": self.cfg, "_matcher": None}

    def setup(self):
        if self._matcher is None and self.cfg.index:
            self._matcher = Matcher(load(self.cfg.index), self.cfg.min_fraction)

    def __call__(self, record: dict) -> tuple[dict, str | None]:
        if self._matcher is None:
            self.setup()
        out = dict(record)
        out["eval_passage"] = None
        if self._matcher is None:
            return out, None
        m = self._matcher.match(record.get("text") or "")
        if m.items:
            out["eval_suite"], out["eval_item"], _ = m.items[0]
            return out, R_ITEM
        if m.passages:
            out["eval_passage"] = "/".join(m.passages[0])
            if self.cfg.drop_passage_matches:
                out["eval_suite"], out["eval_item"] = m.passages[0]
                return out, R_PASSAGE
        return out, None

