"""Dataflow Flex Template entry point: ``--command run`` (default) or ``--command refresh``,
then the same flags as ``python -m pipeline run|refresh``. The launcher passes template
parameters as ``--name=value`` and the Dataflow options (project, region, temp_location,
sdk_container_image ...) after them."""
from __future__ import annotations

import sys

from pipeline import cli


def main(argv: list[str]) -> int:
    command = "run"
    rest = []
    for a in argv:
        if a.startswith("--command="):
            command = a.split("=", 1)[1]
        else:
            rest.append(a)
    if command not in ("run", "refresh"):
        raise SystemExit(f"--command must be run or refresh, not {command!r}")
    return cli.main([command, *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
