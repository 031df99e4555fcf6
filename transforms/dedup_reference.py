"""In-memory reference of the Dedup stage (same pure functions, union-find instead of rounds).

Used by tests (the Beam composite must give exactly this) and by the quality bench. It holds the
whole corpus in memory, so it is a yardstick, never a pipeline step.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from transforms import components as cc
from transforms.minhash import MinHashParams, exact_hash, jaccard, shingles


def reference_dedup(records: Iterable[dict], params: MinHashParams = MinHashParams(),
                    exact: bool = True, verify_threshold: float | None = None) -> dict:
    """Returns {"kept": {id: cluster_size}, "rejected": {id: (reason, duplicate_of)},
    "clusters": {survivor id: sorted member ids}}."""
    recs = list(records)
    node_of = {}
    by_exact: dict[str, list[str]] = defaultdict(list)
    text_of = {}
    for r in recs:
        n = cc.node_key(str(r["id"]), r.get("crawl_date"))
        node_of[n] = r
        text_of[n] = r.get("text") or ""
        by_exact[exact_hash(text_of[n]) if exact else n].append(n)
    exact_root = {}
    weight = {}
    for members in by_exact.values():
        s = min(members)
        weight[s] = len(members)
        for m in members:
            exact_root[m] = s
    buckets: dict[tuple[int, int], list[str]] = defaultdict(list)
    for s in weight:
        for bk in params.doc_band_keys(text_of[s]):
            buckets[bk].append(s)
    edges = []
    for members in buckets.values():
        uniq = sorted(set(members))
        for v in uniq[1:]:
            if verify_threshold is None or jaccard(shingles(text_of[v], params.ngram),
                                                   shingles(text_of[uniq[0]], params.ngram)) >= verify_threshold:
                edges.append((v, uniq[0]))
    root = cc.components_reference(list(weight), edges)
    kept: dict[str, int] = defaultdict(int)
    rejected = {}
    clusters: dict[str, list[str]] = defaultdict(list)
    for n in node_of:
        s = exact_root[n]
        final = root[s]
        fid = cc.node_id(final)
        clusters[fid].append(cc.node_id(n))
        kept[fid] += 1
        if n != s:
            rejected[cc.node_id(n)] = ("exact_duplicate_v1", fid)
        elif final != s:
            rejected[cc.node_id(n)] = ("near_duplicate_v1", fid)
    return {"kept": dict(kept), "rejected": rejected,
            "clusters": {k: sorted(v) for k, v in clusters.items()}}
