"""``python -m bench all [--size-mb 200] [--skip w3 ...]`` — the side-by-side harness (ours against peers);
``python -m bench spine [--size-mb 100]`` — per-stage rates of our spine (:mod:`bench.spine`);
``python -m bench cost [results.json ...]`` — the paper-scale cost model (several: medians)."""
from __future__ import annotations

import argparse
import json
import sys


def main(argv=None) -> int:
    from bench import harness

    ap = argparse.ArgumentParser(prog="python -m bench")
    ap.add_argument("command", choices=["all", "spine", "cost"])
    ap.add_argument("results", nargs="*", help="results JSON(s) (cost; several: per-stage medians)")
    ap.add_argument("--sample", default=harness.SAMPLE, help="directory of the real WARC sample")
    ap.add_argument("--size-mb", type=float, default=200, help="replicate the sample to at least this many MB of WARC")
    ap.add_argument("--spine-size-mb", type=float, default=100, help="input of the in-process spine stage rates")
    ap.add_argument("--nonja-copies", type=int, default=40)
    ap.add_argument("--quality-copies", type=int, default=4)
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--dt-scales", type=int, nargs="*", default=[1, 8], help="dedup scales datatrove runs at")
    ap.add_argument("--mutate", type=float, default=0.01, help="fraction of characters edited in dedup copies")
    ap.add_argument("--bands", type=int, default=20)
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=600, help="per contender, seconds")
    ap.add_argument("--skip", nargs="*", default=[], help="any of: spine pipeline_nonja w1 w2 w3 w4 datatrove hojichar")
    ap.add_argument("--stem", default=None, help="results file name (default: today's date)")
    args = ap.parse_args(argv)
    if args.command == "cost":
        from bench import cost_model
        return cost_model.main(args.results)
    if args.command == "spine":
        args.skip = sorted(set(args.skip) | {"w1", "w2", "w3", "datatrove", "hojichar"})
        if "--size-mb" not in " ".join(argv or sys.argv):
            args.size_mb = 100
    harness.run_all(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
