"""Run our pipeline (``pipeline.cli.run``) and print its report's counts as one JSON line, so the
harness can measure it like any contender: ``python -m bench.ours_pipeline <pipeline args>``."""
from __future__ import annotations

import json
import logging
import sys


def main(argv):
    logging.basicConfig(level=logging.WARNING)
    from pipeline.cli import run

    r = run(argv, strict=False)
    print(json.dumps({"records_read": r.get("records_read"), "kept": r.get("kept"),
                      "dropped": sum((r.get("dropped") or {}).values()),
                      "errors": sum((r.get("errors") or {}).values()),
                      "wall_seconds": r.get("wall_seconds")}))


if __name__ == "__main__":
    main(sys.argv[1:])
