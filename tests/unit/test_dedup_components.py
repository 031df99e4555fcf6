"""Connected components (large-star / small-star) and survivor order: pure functions."""
from __future__ import annotations

import random

import pytest

from tests.dedup_reference import components_reference, run_rounds, unsettled_nodes
from transforms import components as cc


def _check(nodes, edges, max_rounds=64):
    out, rounds = run_rounds(edges, max_rounds)
    ref = components_reference(nodes, edges)
    got = dict(out)
    assert len(got) == len(out)  # one parent per node at the fixpoint
    assert unsettled_nodes(out) == 0
    for n in nodes:
        assert got.get(n, n) == ref[n], n
    return out, rounds


def _ids(n):
    return [f"n{i:05d}" for i in range(n)]


def test_path_graph_10k_sorted_and_shuffled():
    ids = _ids(10_000)
    out, rounds = _check(ids, [(ids[i], ids[i + 1]) for i in range(len(ids) - 1)])
    assert len(out) == 9_999 and {m for _, m in out} == {"n00000"}
    assert rounds <= 20  # log2(10^4) ~ 13.3
    perm = ids[:]
    random.Random(1).shuffle(perm)
    _check(ids, [(perm[i], perm[i + 1]) for i in range(len(perm) - 1)])


def test_star_graph():
    ids = _ids(500)
    out, rounds = _check(ids, [(ids[-1], v) for v in ids[:-1]])  # centre is the largest node
    assert {m for _, m in out} == {"n00000"} and len(out) == 499


def test_two_cliques_joined_by_one_edge():
    a, b = _ids(20)[:10], _ids(20)[10:]
    edges = [(x, y) for x in a for y in a if x < y] + [(x, y) for x in b for y in b if x < y]
    edges.append((a[7], b[3]))
    out, _ = _check(a + b, edges)
    assert {m for _, m in out} == {a[0]} and len(out) == 19


def test_isolated_nodes_and_several_components():
    ids = _ids(30)
    edges = [(ids[1], ids[2]), (ids[2], ids[3]), (ids[10], ids[11]), (ids[20], ids[20])]
    out, _ = _check(ids, edges)
    assert dict(out) == {ids[2]: ids[1], ids[3]: ids[1], ids[11]: ids[10]}


def test_random_graphs_match_union_find():
    rng = random.Random(7)
    for _ in range(20):
        ids = _ids(rng.randint(2, 300))
        edges = [(rng.choice(ids), rng.choice(ids)) for _ in range(rng.randint(1, 400))]
        _check(ids, edges)


def test_large_star_and_small_star_reducers():
    edges, settled = cc.large_star("c", ["a", "d", "e", "d"])
    assert edges == [("d", "a"), ("e", "a")] and not settled
    assert cc.large_star("a", ["b", "c"]) == ([("b", "a"), ("c", "a")], True)
    assert cc.large_star("b", ["a"]) == ([], True)
    assert cc.small_star("d", ["b", "c"]) == [("c", "b"), ("d", "b")]
    assert cc.small_star_key(("a", "b")) == ("b", "a")


def test_convergence_failure_is_loud():
    ids = _ids(1000)
    with pytest.raises(RuntimeError):
        run_rounds([(ids[i], ids[i + 1]) for i in range(999)], max_rounds=2)


def test_node_key_orders_newest_first_then_id():
    old = cc.node_key("a", "2019-05-05T05:29:36Z")
    new = cc.node_key("z", "2023-01-01T00:00:00Z")
    same_time_b = cc.node_key("b", "2023-01-01T00:00:00+00:00")
    missing = cc.node_key("0", None)
    assert min([old, new, same_time_b, missing]) == same_time_b  # the survivor; same time: smaller id
    assert same_time_b < new < old < missing
    assert cc.node_id(new) == "z" and cc.node_id(cc.node_key("id:with:colons", None)) == "id:with:colons"
    idx = cc.index_node_key("kept-before")
    assert idx < new and cc.is_index_node(idx) and cc.node_id(idx) == "kept-before"
