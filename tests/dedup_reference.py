"""In-memory references of the dedup stage (:mod:`transforms.dedup`), for tests and benches.

- :func:`signature_datasketch`: MinHash signatures by ``datasketch`` (a dev-only dependency), which
  :func:`transforms.minhash.signature` must equal value for value;
- :func:`run_rounds` / :func:`unsettled_nodes`: the large-star / small-star reducers of
  :mod:`transforms.components` driven in memory (the Beam composite unrolls them);
- :func:`components_reference`: union-find connected components, the yardstick for both;
- :func:`reference_dedup`: the whole stage (same pure functions, union-find instead of rounds),
  which the Beam composite must match exactly.

They hold everything in memory, so they are yardsticks, never pipeline steps.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

import numpy as np

from transforms import components as cc
from transforms.components import large_star, small_star, small_star_key, undirected
from transforms.minhash import MinHashParams, exact_hash, jaccard, shingles


def signature_datasketch(shingle_set: Iterable[str], num_perm: int, seed: int = 1) -> np.ndarray:
    """The reference: ``datasketch.MinHash.update_batch`` on the UTF-8 shingles."""
    from datasketch import MinHash

    m = MinHash(num_perm=num_perm, seed=seed, scheme="affine32")
    m.update_batch([s.encode("utf-8") for s in shingle_set])
    return np.asarray(m.hashvalues, dtype=np.uint32)


def unsettled_nodes(edges: Iterable[tuple[str, str]]) -> int:
    """How many nodes still break the star shape (both a child and a parent, or a child with
    several parents): 0 iff every component is a star on its minimum, i.e. converged."""
    parents: dict[str, set[str]] = {}
    is_parent: set[str] = set()
    for child, parent in edges:
        parents.setdefault(child, set()).add(parent)
        is_parent.add(parent)
    return sum(1 for c, ps in parents.items() if len(ps) > 1 or c in is_parent)


def run_rounds(edges: Iterable[tuple[str, str]], max_rounds: int = 64) -> tuple[list[tuple[str, str]], int]:
    """In-memory driver of :mod:`transforms.components`' reducers (the Beam composite unrolls
    them). Returns the final star edges ``(node, component min)`` and the number of
    (large-star, small-star) rounds after which the edge set stopped changing."""
    cur = sorted({small_star_key(e) for e in edges if e[0] != e[1]})
    for r in range(1, max_rounds + 1):
        adj: dict[str, list[str]] = {}
        for e in cur:
            for a, b in undirected(e):
                adj.setdefault(a, []).append(b)
        ls = set()
        for u, nb in adj.items():
            ls.update(large_star(u, nb)[0])
        down: dict[str, list[str]] = {}
        for e in ls:
            a, b = small_star_key(e)
            down.setdefault(a, []).append(b)
        nxt = set()
        for u, nb in down.items():
            nxt.update(small_star(u, nb))
        nxt_sorted = sorted(nxt)
        if nxt_sorted == cur:
            return cur, r - 1
        cur = nxt_sorted
    raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")


def components_reference(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Union-find reference: node -> minimum node of its component."""
    parent: dict[str, str] = {n: n for n in nodes}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            if ra < rb:
                parent[rb] = ra
            else:
                parent[ra] = rb
    return {n: find(n) for n in list(parent)}


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
    root = components_reference(list(weight), edges)
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
