"""Dedup's connected components in Beam: the unrolled (large-star, small-star) rounds of
Kiveris et al., "Connected Components in MapReduce and Beyond" (SoCC 2014), each step one
GroupByKey by node over the pure reducers of :mod:`transforms.components`. Used by
:class:`transforms.dedup.Dedup` on the LSH star edges."""
from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms import components as cc
from transforms.stage import NAMESPACE


class _LargeStar(beam.DoFn):
    def __init__(self, round_no: int, stage: str):
        self.round_no, self.stage = round_no, stage

    def setup(self):
        self.unsettled = Metrics.counter(NAMESPACE, f"{self.stage}.cc_round_{self.round_no:02d}.unsettled")
        self.nodes = Metrics.counter(NAMESPACE, f"{self.stage}.cc_round_{self.round_no:02d}.nodes")

    def process(self, item):
        u, nbrs = item
        edges, settled = cc.large_star(u, nbrs)
        self.nodes.inc()
        if not settled:
            self.unsettled.inc()
        yield from edges


def _small_star(item):
    u, nbrs = item
    yield from cc.small_star(u, nbrs)


class ConnectedComponents(beam.PTransform):
    """Edges (u, v) → star edges (node, component minimum) for every non-minimum node.

    ``max_rounds`` unrolled (large-star, small-star) rounds (Kiveris et al. 2014). Counters
    ``<stage>.cc_round_NN.unsettled`` show when the graph converged (the first round with 0).
    """

    def __init__(self, max_rounds: int = 20, label: str | None = None, stage: str = "dedup"):
        super().__init__(label)
        self.max_rounds, self.stage = max_rounds, stage
        self.rounds: dict[int, beam.PCollection] = {}  # round → its large-star output, once expanded

    def expand(self, edges):
        cur = edges | "Orient" >> beam.Map(cc.small_star_key)
        for r in range(1, self.max_rounds + 1):
            self.rounds[r] = (cur
                              | f"R{r:02d}.LargeStar.Undirected" >> beam.FlatMap(cc.undirected)
                              | f"R{r:02d}.LargeStar.Group" >> beam.GroupByKey()
                              | f"R{r:02d}.LargeStar.Reduce" >> beam.ParDo(_LargeStar(r, self.stage)))
            cur = (self.rounds[r]
                   | f"R{r:02d}.SmallStar.Key" >> beam.Map(cc.small_star_key)
                   | f"R{r:02d}.SmallStar.Group" >> beam.GroupByKey()
                   | f"R{r:02d}.SmallStar.Reduce" >> beam.FlatMap(_small_star))
        return cur
