"""The refresh state under ROOT (layout and commit protocol: :mod:`pipeline.refresh`): versions,
commit records, batch directories, the manifest table.

Every file access goes through Beam's ``FileSystems``, as the pipeline's own reads and writes do,
so ROOT may be any filesystem Beam knows (local, ``gs://``, ``s3://``, ...). Object stores have no
directories: a directory here is the set of files under a prefix, listed with ``**`` and moved
file by file (:func:`move_tree`).
"""
from __future__ import annotations

import dataclasses
import json
import os
import time

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipeline.refresh_state import MANIFEST_KEYS, VERSION_KEYS, read_checked
from transforms.schema import absolute_location


# ----------------------------------------------------------------------------- file helpers
def files_under(directory: str) -> list[str]:
    """Every file below ``directory`` (any depth), sorted; none if it does not exist."""
    try:
        found = FileSystems.match([f"{directory}/**"])[0].metadata_list
    except Exception:  # noqa: BLE001 - Beam's local filesystem refuses to list a missing directory
        return []
    return sorted(m.path for m in found)


def glob(pattern: str) -> list[str]:
    return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)


def children(directory: str) -> list[str]:
    """The entries directly under ``directory`` that hold files, as paths."""
    names = {path[len(directory) + 1:].split("/", 1)[0] for path in files_under(directory)}
    return [f"{directory}/{name}" for name in sorted(names)]


def delete_tree(directory: str) -> None:
    """Remove ``directory`` and everything below it: a local directory as one (its empty
    subdirectories too), on object stores the files under the prefix."""
    if FileSystems.exists(directory):
        FileSystems.delete([directory])
    files = files_under(directory)
    if files:
        FileSystems.delete(files)


def _makedirs(directory: str) -> None:
    try:
        FileSystems.mkdirs(directory)
    except OSError:  # it exists already (object stores have nothing to make)
        pass


def move_tree(src: str, dst: str) -> None:
    """Move every file under ``src`` to the same place under ``dst``, then remove ``src``."""
    files = files_under(src)
    targets = [dst + f[len(src):] for f in files]
    for parent in sorted({t.rsplit("/", 1)[0] for t in targets}):
        _makedirs(parent)
    FileSystems.rename(files, targets)
    delete_tree(src)


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Write to a temp name beside ``path``, then rename: a reader never sees half a file."""
    tmp = f"{path}.tmp-{os.getpid()}-{time.time_ns()}"
    with FileSystems.create(tmp, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        f.write(data)
    FileSystems.rename([tmp], [path])


def write_json_atomic(path: str, obj) -> None:
    write_bytes_atomic(path, json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True, default=str).encode())


# ------------------------------------------------------------------------------------ state
@dataclasses.dataclass
class Version:
    id: str
    snapshot: str
    config_hash: str
    parent: str | None
    snapshots: list[str]
    lineage: list[str]  # version ids whose batches make up this corpus (oldest first), incl. self
    status: str = "in_progress"

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class Store:
    """The refresh state under ROOT (see :mod:`pipeline.refresh`); ``root`` as given, local paths
    made absolute."""

    def __init__(self, root: str):
        self.root = absolute_location(root.rstrip("/"))

    def p(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def versions(self) -> list[dict]:
        out = [read_checked(path, VERSION_KEYS) for path in glob(self.p("*", "version.json"))]
        return sorted(out, key=lambda v: v["id"])

    def commits(self, version_id: str) -> list[dict]:
        return [read_checked(path, MANIFEST_KEYS) for path in glob(self.p(version_id, "manifest", "*.json"))]

    def clear_tmp(self) -> list[str]:
        gone = children(self.p("_tmp"))
        for path in gone:
            delete_tree(path)
        return gone

    def remove_orphans(self, version_id: str) -> list[str]:
        """Batch directories with no commit record: a crash between move and manifest write."""
        committed = {c["batch"] for c in self.commits(version_id)}
        gone = []
        for path in children(self.p(version_id, "batches")):
            if path.rsplit("/", 1)[-1] not in committed:
                delete_tree(path)
                gone.append(path)
        # half-written manifest temp files
        for path in glob(self.p(version_id, "manifest", "*.tmp-*")):
            FileSystems.delete([path])
            gone.append(path)
        return gone

    def open_version(self, snapshot: str, chash: str) -> Version:
        versions = self.versions()
        for v in versions:
            if v["snapshot"] == snapshot and v["config_hash"] == chash:
                return Version(**{k: v[k] for k in Version.__dataclass_fields__})
        complete = [v for v in versions if v["status"] == "complete"]
        parent = complete[-1] if complete else None
        seq = 1 + max((int(v["id"].split("-", 1)[0][1:]) for v in versions), default=0)
        vid = f"v{seq:04d}-{snapshot}"
        return Version(id=vid, snapshot=snapshot, config_hash=chash,
                       parent=parent["id"] if parent else None,
                       snapshots=(parent["snapshots"] if parent else []) + [snapshot],
                       lineage=(parent["lineage"] if parent else []) + [vid])

    def done_files(self, version: Version) -> dict[str, str]:
        """path → version id, for every file committed in the lineage."""
        done = {}
        for vid in version.lineage:
            for c in self.commits(vid):
                for f in c["files"]:
                    done[f["path"]] = vid
        return done

    def dedup_indexes(self, version: Version) -> list[str]:
        out = []
        for vid in version.lineage:
            for c in self.commits(vid):
                # A batch that kept no document wrote no index file: nothing to read there.
                index = self.p(vid, "batches", c["batch"], "dedup_index")
                if c.get("dedup_index") and glob(f"{index}/band=*/*.parquet"):
                    out.append(index)
        return out

    def write_commit_record(self, version_id: str, bid: str, record: dict) -> None:
        """The batch's commit record: once it exists the batch is committed."""
        write_json_atomic(self.p(version_id, "manifest", f"{bid}.json"), record)


def commit_batch(store: Store, version: Version, bid: str, tmp: str, record: dict) -> None:
    """Move the finished batch into place, then write its commit record (the commit point)."""
    dest = store.p(version.id, "batches", bid)
    delete_tree(dest)  # an uncommitted leftover under the same name
    move_tree(tmp, dest)
    store.write_commit_record(version.id, bid, record)


def write_manifest_table(store: Store) -> str | None:
    """All commit records of all versions as ``ROOT/manifest.parquet`` (one row per input file)."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for v in store.versions():
        for c in store.commits(v["id"]):
            for f in c["files"]:
                rows.append({
                    "path": f["path"], "size_bytes": f.get("size_bytes"), "status": f["status"],
                    "version": v["id"], "snapshot": c["snapshot"], "batch": c["batch"],
                    "records_read": f.get("records_read"), "kept": f.get("kept"),
                    "dropped": f.get("dropped"), "errors": f.get("errors"),
                    "outputs": c["outputs"], "code_version": c["code_version"],
                    "config_hash": c["config_hash"], "committed_at": c["committed_at"],
                })
    if not rows:
        return None
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buf)
    path = store.p("manifest.parquet")
    write_bytes_atomic(path, buf.getvalue())
    return path
