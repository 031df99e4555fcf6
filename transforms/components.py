"""Connected components by large-star / small-star, survivor order: pure functions, no Beam.

Algorithm: Kiveris, Lattanzi, Mirrokni, Rastogi, Vassilvitskii, "Connected Components in
MapReduce and Beyond", SoCC 2014, §3 ("Two-phase algorithm"): alternate

- *large-star*: for every node u with neighbourhood Γ(u), connect every *strictly larger*
  neighbour v > u to m(u) = min(Γ(u) ∪ {u});
- *small-star*: for every node u, connect every node of N = {v ∈ Γ(u) : v ≤ u} ∪ {u} to
  m = min(N);

until the edge set stops changing. Connectivity is preserved by both steps; at the fixpoint
every component is a star centred on its minimum node, which converges in O(log² n) rounds
(O(log n) observed). Each step is one grouping by node (a MapReduce round), so in Beam it is
one GroupByKey; these functions are the reducers, fed one node's neighbours.

Node keys encode the survivor order: ``node_key(record)`` sorts the *newest* crawl first and
breaks ties by ascending ``id`` (Swallow keeps the most recent crawl; the tie-break makes the
choice deterministic). The component minimum (``min`` of the node keys) is therefore the
document that survives.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Iterator

# Seconds since the epoch are subtracted from this bound, so newer dates give smaller keys.
_TS_BOUND = 10 ** 12  # year ~33658: any crawl date fits in 12 digits after the subtraction
_TS_WIDTH = 12
#: Prefix of nodes read from a stored index (a previous run's kept corpus): '!' sorts before
#: every digit, so an indexed document is always the minimum, i.e. the survivor, of its cluster.
INDEX_PREFIX = "!"


def crawl_epoch(crawl_date: str | None) -> int | None:
    """Seconds since the epoch of an ISO 8601 date (``Z`` or offset; naive = UTC)."""
    if not crawl_date:
        return None
    try:
        d = datetime.fromisoformat(crawl_date.replace("Z", "+00:00"))
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return int(d.timestamp())


def node_key(record_id: str, crawl_date: str | None) -> str:
    """Sortable node key: ascending order = (crawl_date descending, id ascending).
    A missing or unparsable date sorts as the oldest."""
    ts = crawl_epoch(crawl_date)
    inv = _TS_BOUND - 1 if ts is None else _TS_BOUND - 1 - max(0, ts)
    return f"{inv:0{_TS_WIDTH}d}:{record_id}"


def index_node_key(record_id: str) -> str:
    """Node key of a document from a stored index: always smaller than any new document."""
    return f"{INDEX_PREFIX}{record_id}"


def node_id(node: str) -> str:
    """The record id inside a node key."""
    if node.startswith(INDEX_PREFIX):
        return node[len(INDEX_PREFIX):]
    return node[_TS_WIDTH + 1:]


def is_index_node(node: str) -> bool:
    return node.startswith(INDEX_PREFIX)


# ---------------------------------------------------------------------------------- CC steps
def undirected(edge: tuple[str, str]) -> Iterator[tuple[str, str]]:
    """Map step of large-star: both directions of an edge (self-loops dropped)."""
    u, v = edge
    if u != v:
        yield u, v
        yield v, u


def large_star(u: str, neighbours: Iterable[str]) -> tuple[list[tuple[str, str]], bool]:
    """Reducer of large-star at node ``u``. Returns the new edges ``(v, m(u))`` for each
    neighbour v > u, and whether u was already *settled* (u has no smaller neighbour, or u's
    only smaller neighbour is its sole link, i.e. it is a leaf or the centre of a star)."""
    nbrs = set(neighbours)
    nbrs.discard(u)
    if not nbrs:
        return [], True
    m = min(min(nbrs), u)
    larger = sorted(v for v in nbrs if v > u)
    smaller = len(nbrs) - len(larger)
    settled = (smaller == 0) or (smaller == 1 and not larger)
    return [(v, m) for v in larger], settled


def small_star_key(edge: tuple[str, str]) -> tuple[str, str]:
    """Map step of small-star: key every edge by its larger endpoint."""
    u, v = edge
    return (u, v) if u > v else (v, u)


def small_star(u: str, smaller_neighbours: Iterable[str]) -> list[tuple[str, str]]:
    """Reducer of small-star at node ``u``: connect N = {smaller neighbours} ∪ {u} to min(N)."""
    n = set(smaller_neighbours)
    n.add(u)
    m = min(n)
    return [(v, m) for v in sorted(n) if v != m]
