"""``python -m bench all [--size-mb 200] [--skip w3 ...]`` — the side-by-side harness (ours against peers);
``python -m bench spine [--size-mb 100]`` — per-stage rates of our spine (:mod:`bench.spine`);
``python -m bench marginal`` — marginal and fixed cost of the whole DAG (:mod:`bench.marginal`);
``python -m bench cost [marginal.json]`` — the paper-scale cost model from measured figures."""
from __future__ import annotations

import argparse
import json
import sys


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        import psutil  # noqa: F401  (the bench extra: every contender is measured with it)
    except ImportError:
        print("python -m bench: the bench extra is not installed (no psutil): run `bash scripts/bench.sh "
              f"{' '.join(argv) or '--help'}`, or `pip install -e '.[bench]'`", file=sys.stderr)
        return 2
    if argv[:1] == ["cost"]:  # its own options (python -m bench cost --help)
        from bench import cost_model
        return cost_model.main(argv[1:])
    from bench import harness

    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.replace("``", "`"),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["all", "spine", "marginal", "cost"])
    ap.add_argument("results", nargs="*", help=argparse.SUPPRESS)
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
    ap.add_argument("--nonja-sizes", type=int, nargs=2, default=[10_000, 40_000], metavar="N",
                    help="marginal: responses in the small and the large non-Japanese input")
    ap.add_argument("--ja-sizes", type=int, nargs=2, default=[5_000, 20_000], metavar="N",
                    help="marginal: responses in the small and the large Japanese-heavy input")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="marginal: SDK worker processes")
    ap.add_argument("--repeat", type=int, default=3, help="marginal: passes over every configuration (medians)")
    ap.add_argument("--no-datatrove", action="store_true", help="marginal: skip the datatrove run")
    args = ap.parse_args(argv)
    if args.command == "marginal":
        from bench import marginal
        marginal.run(args)
        return 0
    if args.command == "spine":
        args.skip = sorted(set(args.skip) | {"w1", "w2", "w3", "datatrove", "hojichar"})
        if "--size-mb" not in " ".join(argv):
            args.size_mb = 100
    harness.run_all(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
