"""``--output`` checked before any work: an existing file is refused, and a directory that holds
another run's files is refused unless ``--overwrite`` is given (then those files are removed
first), so a report never mixes the statistics and rejects of two runs.

Only the entries a run writes are looked at and removed (:data:`RUN_ENTRIES`); anything else in the
directory is left alone.
"""
from __future__ import annotations

import os

from apache_beam.io.filesystems import FileSystems

#: what ``python -m pipeline run`` writes under --output
RUN_ENTRIES = ("documents", "rejects", "errors", "_stats", "report.json", "report.html", "README.md",
               "dedup_index")


def _found(output: str) -> list[str]:
    out = output.rstrip("/")
    found = []
    for name in RUN_ENTRIES:
        try:
            if FileSystems.exists(f"{out}/{name}") or FileSystems.match([f"{out}/{name}/*"], limits=[1])[0].metadata_list:
                found.append(name)
        except Exception:  # noqa: BLE001 - a listing error is the run's to report, not ours
            continue
    return found


def check_output(output: str, overwrite: bool = False) -> list[str]:
    """Raise ``ValueError`` (one line) for an --output that is a file, or that holds another
    run's files without ``overwrite``; with it, remove them. Returns the entries removed."""
    if "://" not in output:
        if os.path.isfile(output):
            raise ValueError(f"--output {output} is an existing file; give a directory")
        parent = os.path.dirname(os.path.abspath(output.rstrip("/")))
        while parent and not os.path.exists(parent):
            parent = os.path.dirname(parent)
        if parent and os.path.isfile(parent):
            raise ValueError(f"--output {output}: {parent} is a file, not a directory")
    found = _found(output)
    if found and not overwrite:
        raise ValueError(f"--output {output} holds another run's files ({', '.join(found)}); "
                         f"give --overwrite to replace them, or another directory")
    if found:
        out = output.rstrip("/")
        if "://" not in out:
            FileSystems.delete([f"{out}/{name}" for name in found])
        else:  # object stores have no directories: delete the objects under each name
            paths = []
            for name in found:
                if FileSystems.exists(f"{out}/{name}"):
                    paths.append(f"{out}/{name}")
                paths += [m.path for m in FileSystems.match([f"{out}/{name}/**"])[0].metadata_list]
            if paths:
                FileSystems.delete(paths)
    return found
