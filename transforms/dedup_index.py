"""The stored dedup index of incremental dedup (:class:`transforms.dedup.Dedup` writes one per
run with ``DedupConfig.index_output`` and reads earlier ones from ``DedupConfig.index_inputs``):
the band keys of kept documents as Parquet partitioned by band, ``<path>/band=NNN/part-SSSSS.parquet``,
plus ``<path>/_params.json``, the MinHash parameters a reader must match for the keys to meet.
"""
from __future__ import annotations

import json
from dataclasses import asdict

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from transforms import components as cc
from transforms.minhash import MinHashParams

INDEX_PARAMS_FILE = "_params.json"


def check_index_params(path: str, params: MinHashParams) -> None:
    """Refuse an index built with other shingles / bands / rows / seed (its keys would never
    match). Called at construction time."""
    fn = FileSystems.join(path, INDEX_PARAMS_FILE)
    if not FileSystems.exists(fn):
        raise ValueError(f"dedup index {path!r} has no {INDEX_PARAMS_FILE}")
    with FileSystems.open(fn) as fh:
        stored = json.loads(fh.read().decode("utf-8"))
    if stored != asdict(params):
        raise ValueError(f"dedup index {path!r} was built with {stored}, this run uses {asdict(params)}")


def _index_shard(row: dict, shards: int) -> tuple[tuple[int, int], dict]:
    return (int(row["band"]), int(row["key"]) % shards), row


class _WriteIndexFile(beam.DoFn):
    def __init__(self, path: str):
        self.path = path

    def process(self, item):
        import pyarrow as pa
        import pyarrow.parquet as pq

        (band, shard), rows = item
        rows = sorted(rows, key=lambda r: (r["key"], r["id"]))
        table = pa.table({
            "band": pa.array([r["band"] for r in rows], pa.int32()),
            "key": pa.array([r["key"] for r in rows], pa.int64()),
            "id": pa.array([r["id"] for r in rows], pa.string()),
        })
        fn = FileSystems.join(self.path, f"band={band:03d}", f"part-{shard:05d}.parquet")
        with FileSystems.create(fn) as fh:
            pq.write_table(table, fh)
        yield fn


class WriteDedupIndex(beam.PTransform):
    """Index rows ``{"band", "key", "id"}`` of kept documents → Parquet partitioned by band:
    ``<path>/band=NNN/part-SSSSS.parquet`` plus ``<path>/_params.json`` (the MinHash params a
    reader must match). Returns the PCollection of written file names."""

    def __init__(self, path: str, params: MinHashParams, shards: int = 16, label: str | None = None):
        super().__init__(label)
        self.path, self.params, self.shards = path.rstrip("/"), params, shards

    def expand(self, rows):
        FileSystems.mkdirs(self.path) if not FileSystems.exists(self.path) else None
        with FileSystems.create(FileSystems.join(self.path, INDEX_PARAMS_FILE)) as fh:
            fh.write(json.dumps(asdict(self.params), sort_keys=True).encode("utf-8"))
        shards = self.shards
        return (rows
                | "Shard" >> beam.Map(_index_shard, shards)
                | "Group" >> beam.GroupByKey()
                | "Write" >> beam.ParDo(_WriteIndexFile(self.path)))


class ReadDedupIndex(beam.PTransform):
    """A stored index → ``((band, key), index node)`` bucket entries for :class:`Dedup`."""

    def __init__(self, path: str, label: str | None = None):
        super().__init__(label)
        self.path = path.rstrip("/")

    def expand(self, p):
        return (p
                | "Read" >> beam.io.ReadFromParquet(f"{self.path}/band=*/*.parquet")
                | "Entries" >> beam.Map(
                    lambda r: ((int(r["band"]), int(r["key"])), cc.index_node_key(str(r["id"])))))
