"""Dedup: exact + MinHash-LSH near-duplicate removal with distributed connected components.

Pure logic lives in :mod:`transforms.minhash` (shingles, signatures, bands) and
:mod:`transforms.components` (large-star / small-star reducers, survivor order); this module only
wires them into Beam, with the connected-components rounds in :mod:`transforms.dedup_rounds` and
the stored index in :mod:`transforms.dedup_index`. No step gathers the corpus or its duplicate
graph on one worker: every grouping is keyed by a text hash, an LSH bucket or a node, and the
only per-key state is that key's own neighbourhood (hot keys such as a boilerplate page with 10^5
copies are collapsed by a combiner before the shuffle in the exact stage, and bucket / node
groups are iterated, not sorted).

Data flow (``node`` = :func:`transforms.components.node_key`, whose minimum is the survivor)::

  records ─Features─▶ (node, record)                                      ─┐
                  └──▶ (exact_hash, (node, band_keys)) ─CombinePerKey(min)─▶ exact survivors
                  └──▶ (exact_hash, node) ─CoGroupByKey with survivors─▶ exact members
  survivors ─▶ ((band, key), node) [+ stored index nodes] ─GroupByKey─▶ star edges (m-1 per bucket)
           ─Distinct─▶ [optional exact-Jaccard verification] ─▶ R × (large-star, small-star)
           ─▶ (node, component min) ─▶ decisions + cluster sizes ─CoGroupByKey by node─▶ outputs

Outputs (``Dedup.expand``): ``kept`` (with ``dup_cluster_size``), ``rejected``
(``exact_duplicate_v1`` / ``near_duplicate_v1`` with ``duplicate_of`` = the survivor's id),
``errors`` and ``stats`` ((cluster_size, count) pairs over kept documents). ``Dedup.index_rows``
holds the band keys of kept documents for :class:`WriteDedupIndex` (also written by ``Dedup``
itself when ``DedupConfig.index_output`` is set); ``DedupConfig.index_inputs`` names stored
indexes whose documents win over every new document they duplicate (incremental dedup).
"""
from __future__ import annotations

import collections
from dataclasses import dataclass, field

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import components as cc
from transforms.config_fields import check
from transforms.dedup_index import ReadDedupIndex, WriteDedupIndex, check_index_params
from transforms.dedup_rounds import ConnectedComponents
from transforms.minhash import MinHashParams, exact_hash, jaccard, shingles
from transforms.stage import (
    ERRORS, KEPT, NAMESPACE, REJECTED, StageCounters, exception_output, reject_record,
)


STAGE = "dedup"
STATS = "stats"
EXACT = "exact_duplicate_v1"
NEAR = "near_duplicate_v1"


@dataclass(frozen=True)
class DedupConfig:
    """Configuration of the dedup stage.

    - ``ngram``: shingles are Unicode character n-grams; Swallow uses 5 (NLP2024 §3.5).
    - ``bands`` × ``rows`` = K hash functions. Default 40 bands × 20 rows (K = 800), Swallow's
      setting: doubri (swallow-llm/doubri, Swallow's dedup code) computes 40 buckets of 20 hash
      values each by default (minhash.cc @058da4b, ``doubri-minhash`` options ``-b/--bucket`` 20
      and ``-r/--end`` 40, lines 114–128), and its README.ja.md (@531a029, section on choosing
      b and r) names (b, r) = (20, 40) as the setting of Swallow (Okazaki et al., 2024), b being
      the hash values per bucket (our ``rows``) and r the buckets (our ``bands``).
      P(candidate | J = 0.9) = 1 - (1 - 0.9^20)^40 = 0.994; at J = 0.8, 0.371.
    - ``seed``: permutation seed; datasketch's default (1), so signatures equal
      ``datasketch.MinHash(num_perm=K, seed=seed)`` (scheme affine32).
    - ``exact``: remove exact duplicates (hash of NFKC/whitespace-normalised text) first.
    - ``near``: run MinHash-LSH near-duplicate removal.
    - ``verify`` / ``verify_threshold``: drop candidate edges whose exact Jaccard of shingle sets
      is below the threshold (off by default, as in Swallow and doubri; costs two joins of texts).
    - ``max_rounds``: unrolled (large-star, small-star) rounds; rounds after convergence are
      no-ops. A path of n nodes needs about log2(n) + 1 rounds (measured: 14 for 10^4), so 20
      covers chains of ~10^6. A graph not converged after them fails the run (never silently
      keeps duplicates): raise ``max_rounds``.
    - ``index_inputs``: stored indexes (directories written by :class:`WriteDedupIndex`) of an
      existing corpus; new documents that duplicate one of their documents are removed.
    - ``index_output``: where to write this run's index (kept documents' band keys), or None.
    - ``index_shards``: files per band in the written index.
    """

    ngram: int = 5
    bands: int = 40
    rows: int = 20
    seed: int = 1
    exact: bool = True
    near: bool = True
    verify: bool = False
    verify_threshold: float = 0.7
    max_rounds: int = 20
    index_inputs: tuple[str, ...] = field(default_factory=tuple)
    index_output: str | None = None
    index_shards: int = 16

    def __post_init__(self):
        check(self, at_least_one=("ngram", "bands", "rows", "max_rounds", "index_shards"),
              unit_interval=("verify_threshold",))

    @property
    def params(self) -> MinHashParams:
        return MinHashParams(ngram=self.ngram, bands=self.bands, rows=self.rows, seed=self.seed)


# ---------------------------------------------------------------------------------- DoFns
class _Features(beam.DoFn):
    """record → (node, record); tagged: exact key + band keys, exact membership, texts."""

    def __init__(self, cfg: DedupConfig):
        self.cfg = cfg
        self.params = cfg.params

    def setup(self):
        self.counters = StageCounters(STAGE)
        # Mirrors often arrive together: band keys of recently seen texts, by exact hash (bounded).
        self._cache: collections.OrderedDict = collections.OrderedDict()
        if self.cfg.near:  # compile (or load the cached) MinHash kernel once per worker, here
            self.params.doc_band_keys("ウォームアップ")

    def _bands(self, text: str, ekey: str | None):
        if ekey is None:
            return self.params.doc_band_keys(text)
        hit = self._cache.get(ekey)
        if hit is None:
            hit = self._cache[ekey] = self.params.doc_band_keys(text)
            if len(self._cache) > 512:
                self._cache.popitem(last=False)
        return hit

    def process(self, record: dict):
        try:
            node = cc.node_key(str(record["id"]), record.get("crawl_date"))
            text = record.get("text") or ""
            ekey = exact_hash(text) if self.cfg.exact else node
            bands = self._bands(text, ekey if self.cfg.exact else None) if self.cfg.near else []
        except Exception as e:  # a bug or a pathological input: counted, never a crash
            yield exception_output(self.counters, record, e)
            return
        yield node, record
        yield beam.pvalue.TaggedOutput("exact", (ekey, (node, tuple(bands))))
        yield beam.pvalue.TaggedOutput("members", (ekey, node))
        if self.cfg.verify:
            yield beam.pvalue.TaggedOutput("texts", (node, text))


class ExactSurvivor(beam.CombineFn):
    """Per exact hash: (survivor node, its band keys, group size). Lifted before the shuffle,
    so a page with 10^5 copies ships one accumulator per bundle, not 10^5 elements."""

    def create_accumulator(self):
        return None

    def add_input(self, acc, value):
        node, bands = value
        if acc is None:
            return (node, bands, 1)
        return (node, bands, acc[2] + 1) if node < acc[0] else (acc[0], acc[1], acc[2] + 1)

    def merge_accumulators(self, accs):
        best = None
        for a in accs:
            if a is None:
                continue
            if best is None:
                best = a
            else:
                n = best[2] + a[2]
                best = (a[0], a[1], n) if a[0] < best[0] else (best[0], best[1], n)
        return best

    def extract_output(self, acc):
        return acc


def _exact_members(item):
    """(exact_hash, {survivor, members}) → (member, survivor) for every non-survivor member."""
    _, g = item
    surv = next(iter(g["survivor"]))[0]
    for m in g["members"]:
        if m != surv:
            yield m, surv


def _bucket_entries(item):
    """(exact_hash, (node, bands, n)) → ((band, key), node) for every band key."""
    _, (node, bands, _) = item
    for band, key in bands:
        yield (band, key), node


def _bucket_edges(item):
    """An LSH bucket → star edges to its minimum (m - 1 edges); index-only buckets emit none."""
    _, members = item
    uniq = set(members)
    if len(uniq) < 2:
        return
    root = min(uniq)
    for v in uniq:
        if v != root and not cc.is_index_node(v):
            yield v, root


def _verify_attach_root_text(item):
    """(m, {edges: [v...], texts: [text_m]}) → (v, (m, text_m)); index roots pass unverified."""
    m, g = item
    texts = list(g["texts"])
    text = texts[0] if texts else None
    for v in g["edges"]:
        yield v, (m, text)


class _VerifyEdges(beam.DoFn):
    def __init__(self, cfg: DedupConfig):
        self.cfg = cfg

    def setup(self):
        self.fp = Metrics.counter(NAMESPACE, f"{STAGE}.verify.false_positive_edges")
        self.ok = Metrics.counter(NAMESPACE, f"{STAGE}.verify.true_edges")

    def process(self, item):
        v, g = item
        texts = list(g["texts"])
        if not texts:
            return
        sv = shingles(texts[0], self.cfg.ngram)
        for m, text_m in g["edges"]:
            if text_m is None or jaccard(sv, shingles(text_m, self.cfg.ngram)) >= self.cfg.verify_threshold:
                self.ok.inc()
                yield v, m
            else:
                self.fp.inc()


def _resolve(item):
    """Per exact survivor n: its component root, its decisions and its size contribution.

    Inputs keyed by n: ``parent`` (star edge n → root, at most one once converged), ``children``
    (how many nodes point to n), ``weight`` (exact group size) and ``members`` (its exact
    duplicates). Outputs: tagged ``size`` (root, weight) and main (node, (reason, root)).
    """
    n, g = item
    parents = sorted(set(g["parent"]))
    if len(parents) > 1 or (parents and sum(g["children"]) > 0):
        raise RuntimeError(
            f"dedup: connected components not converged at node {n!r} (parents {parents[:3]}); "
            "raise DedupConfig.max_rounds")
    weights = list(g["weight"])
    root = parents[0] if parents else n
    if parents:
        yield n, (NEAR, root)
    if weights:
        yield beam.pvalue.TaggedOutput("size", (root, weights[0]))
    for m in g["members"]:
        yield m, (EXACT, root)


class _Route(beam.DoFn):
    """Final join by node: the record, its decision, its cluster size → one of the outputs."""

    def setup(self):
        self.counters = StageCounters(STAGE)

    def process(self, item):
        node, g = item
        records = list(g["record"])
        # A node without records is a stored-index document: not part of this run's records.
        yield from self._route(node, g, records) if records else ()

    def _route(self, node, g, records):
        decisions = sorted(set(g["decision"]))
        sizes = list(g["size"])
        bands = list(g["bands"])
        # Two records with the same id and crawl date: the first (by url, text) stands for both.
        records.sort(key=lambda r: (str(r.get("url")), str(r.get("text"))))
        first, rest = records[0], records[1:]
        for r in rest:
            yield self._reject(r, EXACT, node)
        if decisions:
            reason, target = decisions[0]
            yield self._reject(first, reason, target)
        else:
            yield from self._keep(first, len(rest), sizes, bands)

    def _keep(self, first, extra, sizes, bands):
        out = dict(first)
        out["dup_cluster_size"] = (int(sum(sizes)) if sizes else 1) + extra
        self.counters.kept()
        self.counters.inc("chars_kept", _chars(out))
        yield out
        yield beam.pvalue.TaggedOutput(STATS, (out["dup_cluster_size"], 1))
        if bands:
            rid = str(out["id"])
            for band, key in bands[0]:
                yield beam.pvalue.TaggedOutput("index", {"band": band, "key": key, "id": rid})

    def _reject(self, record, reason, target):
        self.counters.dropped(reason)
        self.counters.inc(f"chars_dropped.{reason}", _chars(record))
        return beam.pvalue.TaggedOutput(
            REJECTED, reject_record(record, STAGE, reason, duplicate_of=cc.node_id(target)))


def _chars(record: dict) -> int:
    return int(record.get("text_chars") or len(record.get("text") or ""))


# ---------------------------------------------------------------------------------- composites
class Dedup(beam.PTransform):
    """The dedup stage: records → {kept, rejected, errors, stats}. See the module docstring."""

    columns = {"dup_cluster_size": "int64"}

    def __init__(self, cfg: DedupConfig = DedupConfig(), label: str | None = "Dedup"):
        super().__init__(label)
        self.cfg = cfg
        self.index_rows = None
        self.rounds: dict[int, beam.PCollection] = {}  # connected components' rounds (progress line)
        try:
            import pyarrow as pa

            self.columns = {"dup_cluster_size": pa.int64()}
        except ImportError:  # pragma: no cover
            pass
        for path in cfg.index_inputs:
            check_index_params(path, cfg.params)

    def expand(self, records):
        cfg = self.cfg
        tags = ["exact", "members", ERRORS] + (["texts"] if cfg.verify else [])
        feats = records | "Features" >> beam.ParDo(_Features(cfg)).with_outputs(*tags, main="keyed")
        keyed = feats["keyed"]

        survivors = feats["exact"] | "ExactSurvivor" >> beam.CombinePerKey(ExactSurvivor())
        members = (
            {"survivor": survivors, "members": feats["members"]}
            | "ExactJoin" >> beam.CoGroupByKey()
            | "ExactMembers" >> beam.FlatMap(_exact_members)
        )
        weights = survivors | "Weights" >> beam.Map(lambda kv: (kv[1][0], kv[1][2]))
        bands = survivors | "SurvivorBands" >> beam.Map(lambda kv: (kv[1][0], kv[1][1]))

        p = records.pipeline
        if cfg.near:
            entries = [survivors | "BucketEntries" >> beam.FlatMap(_bucket_entries)]
            for i, path in enumerate(cfg.index_inputs):
                entries.append(p | f"ReadIndex{i}" >> ReadDedupIndex(path))
            edges = (
                (entries | "AllEntries" >> beam.Flatten() if len(entries) > 1 else entries[0])
                | "Buckets" >> beam.GroupByKey()
                | "StarEdges" >> beam.FlatMap(_bucket_edges)
                | "DistinctEdges" >> beam.Distinct()
            )
            if cfg.verify:
                texts = feats["texts"]
                by_root = (
                    {"edges": edges | "EdgesByRoot" >> beam.Map(lambda e: (e[1], e[0])), "texts": texts}
                    | "VerifyJoinRoot" >> beam.CoGroupByKey()
                    | "AttachRootText" >> beam.FlatMap(_verify_attach_root_text)
                )
                edges = (
                    {"edges": by_root, "texts": texts}
                    | "VerifyJoinNode" >> beam.CoGroupByKey()
                    | "VerifyJaccard" >> beam.ParDo(_VerifyEdges(cfg))
                )
            components = ConnectedComponents(cfg.max_rounds, stage=STAGE)
            stars = edges | "CC" >> components
            self.rounds = components.rounds
        else:
            stars = p | "NoEdges" >> beam.Create([])

        children = (stars
                    | "ChildOf" >> beam.Map(lambda e: (e[1], 1))
                    | "CountChildren" >> beam.CombinePerKey(sum))
        resolved = (
            {"parent": stars, "children": children, "weight": weights,
             "members": members | "MembersBySurvivor" >> beam.Map(lambda kv: (kv[1], kv[0]))}
            | "ResolveJoin" >> beam.CoGroupByKey()
            | "Resolve" >> beam.FlatMap(_resolve).with_outputs("size", main="decision")
        )
        sizes = resolved["size"] | "ClusterSizes" >> beam.CombinePerKey(sum)
        routed = (
            {"record": keyed, "decision": resolved["decision"], "size": sizes, "bands": bands}
            | "RouteJoin" >> beam.CoGroupByKey()
            | "Route" >> beam.ParDo(_Route()).with_outputs(REJECTED, STATS, "index", main=KEPT)
        )
        stats = routed[STATS] | "ClusterHistogram" >> beam.CombinePerKey(sum)
        self.index_rows = routed["index"]
        if cfg.index_output:
            self.index_rows | "WriteIndex" >> WriteDedupIndex(cfg.index_output, cfg.params, cfg.index_shards)
        return {KEPT: routed[KEPT], REJECTED: routed[REJECTED], ERRORS: feats[ERRORS], STATS: stats}
