"""The refresh root's own files, checked: commit records and version files are validated when
read (a truncated or hand-edited file is one line naming it, never a ``JSONDecodeError``), and a
lock file claims the root so that two refreshes never interleave.

The lock is an exclusive create (``O_CREAT | O_EXCL`` locally; ``mode="xb"`` on fsspec
filesystems that offer it, e.g. gcsfs): of two refreshes started together exactly one gets it.
It is the one file that goes through fsspec, not Beam's ``FileSystems`` like the rest of the
refresh state: those offer no exclusive create. A lock whose
process is gone (same host, pid not running: a crash or kill -9) is taken over, so the crash
recovery of ``pipeline/refresh.py`` still needs no operator; a lock held by another host is
removed by hand (the message says how).
"""
from __future__ import annotations

import json
import os
import socket
import time

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems


class StateError(ValueError):
    """A refresh root whose files cannot be trusted: the message names the file."""


#: required keys and their types in a commit record and in version.json
MANIFEST_KEYS = {"batch": str, "version": str, "snapshot": str, "files": list, "outputs": list, "totals": dict}
VERSION_KEYS = {"id": str, "snapshot": str, "config_hash": str, "status": str, "snapshots": list,
                "lineage": list}


def read_checked(path: str, keys: dict[str, type]) -> dict:
    """The JSON object at ``path`` with ``keys`` of the given types, or :class:`StateError`."""
    try:
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        raise StateError(f"{path}: cannot be read ({e})") from None
    if not text.strip():
        raise StateError(f"{path}: empty file (a write was cut short?); restore it from a backup or "
                         f"remove it and rerun")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise StateError(f"{path}: not valid JSON ({e.msg} at line {e.lineno} column {e.colno}); "
                         f"restore it or remove it and rerun") from None
    if not isinstance(doc, dict):
        raise StateError(f"{path}: expected a JSON object, got {type(doc).__name__}")
    for key, typ in keys.items():
        if not isinstance(doc.get(key), typ):
            raise StateError(f"{path}: field {key!r} missing or not a {typ.__name__}")
    if keys is VERSION_KEYS and "parent" not in doc:
        raise StateError(f"{path}: field 'parent' missing")
    if keys is MANIFEST_KEYS:
        for i, f in enumerate(doc["files"]):
            if not isinstance(f, dict) or not isinstance(f.get("path"), str):
                raise StateError(f"{path}: files[{i}] has no 'path'")
        for key in ("records_read", "kept"):
            if not isinstance(doc["totals"].get(key), int):
                raise StateError(f"{path}: totals.{key} missing or not an integer")
    return doc


class RootLock:
    """``ROOT/_lock`` held for the life of one refresh (a context manager)."""

    def __init__(self, root: str):
        import fsspec

        self.fs, path = fsspec.core.url_to_fs(root)
        self.path = f"{path.rstrip('/')}/_lock"
        self.held = False

    def _local(self) -> bool:
        proto = self.fs.protocol[0] if isinstance(self.fs.protocol, (tuple, list)) else self.fs.protocol
        return proto in ("file", "local")

    def _create(self, body: bytes) -> bool:
        if self._local():
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as f:
                f.write(body)
            return True
        try:
            with self.fs.open(self.path, "xb") as f:
                f.write(body)
            return True
        except FileExistsError:
            return False
        except (ValueError, NotImplementedError):  # no exclusive create on this filesystem
            if self.fs.exists(self.path):
                return False
            with self.fs.open(self.path, "wb") as f:
                f.write(body)
            return True

    def _stale(self) -> dict | None:
        try:
            with self.fs.open(self.path, "r") as f:
                holder = json.loads(f.read() or "{}")
        except (OSError, json.JSONDecodeError):
            holder = {}
        if holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int):
            try:
                os.kill(holder["pid"], 0)
            except ProcessLookupError:
                return holder
            except PermissionError:
                return None
        return None  # another host, a live process, or a lock being written: not ours to take

    def __enter__(self):
        body = json.dumps({"host": socket.gethostname(), "pid": os.getpid(),
                           "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}).encode()
        for _ in range(2):
            if self._create(body):
                self.held = True
                return self
            stale = self._stale()
            if stale is None:
                break
            self.fs.rm(self.path)  # its process is gone: take it over
        try:
            with self.fs.open(self.path, "r") as f:
                who = f.read().strip()
        except OSError:
            who = "?"
        raise StateError(f"{self.path}: another refresh holds this root ({who}); if none is running, "
                         f"remove that file and rerun")

    def __exit__(self, *exc):
        if self.held:
            try:
                self.fs.rm(self.path)
            except OSError:
                pass
            self.held = False
        return False
