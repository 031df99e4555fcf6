"""Cost of the prefilter modes against the floor: raw fastwarc iteration (issue 11).

On the labelled sample (``tests/data/warc``), replicated in memory, time per record:

- ``raw``: fastwarc iteration with HTTP parsing, reading every payload (the spine's floor);
- ``read``: our ReadWarc record loop (:func:`transforms.read_warc.iter_warc`);
- ``+decode``: read + Decode of the whole page (what every page would cost if decoding came
  first: the DAG's order until the prefilter moved before Decode);
- ``+swallow`` / ``+kana`` / ``+both``: read + Prefilter in that mode (on raw bytes: it decodes
  only the head) + Decode of the pages it keeps: the DAG's order;
- ``+both(evidence)``: ``both`` collecting every mode's evidence (an evaluation run);

on two inputs: the non-Japanese records only (the ~95% of a crawl whose cost the prefilter
sets, since they stop there) and all records. Ratios are to ``raw`` on the same input; the
goal is ≤ 1.5x on non-Japanese records. Times are CPU time of this process; ``--repeat``
interleaved rounds each time every step once, and a step's ratio is the median over rounds of
its time / raw's time in the same round (the range is printed too): robust to drift and other
load on a shared machine. Run: ``python bench/prefilter_bench.py [--replicate 5] [--repeat 5]
[--inputs non-Japanese] [--json out.json]``.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import glob
import io
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from fastwarc.warc import ArchiveIterator, WarcRecordType  # noqa: E402

from transforms.decode import DecodeRule  # noqa: E402
from transforms.prefilter import PrefilterConfig, PrefilterRule, load_labels  # noqa: E402
from transforms.read_warc import iter_warc, record_hash  # noqa: E402
from transforms.records import RecordError  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")
SAMPLE = os.path.join(ROOT, "tests", "data", "warc")


def split_members(path: str) -> list[tuple[str | None, bytes]]:
    """The gzip members of a ``.warc.gz`` (one WARC record each), with the response's id."""
    data = open(path, "rb").read()
    spans = []
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh, parse_http=False):
            rid = rec.headers.get("WARC-Record-ID", "") if rec.record_type == WarcRecordType.response else None
            spans.append((rec.stream_pos, rid))
    out = []
    for i, (pos, rid) in enumerate(spans):
        end = spans[i + 1][0] if i + 1 < len(spans) else len(data)
        out.append((record_hash(rid) if rid else None, data[pos:end]))
    return out


def raw_iter(buf: bytes) -> int:
    n = 0
    for rec in ArchiveIterator(io.BytesIO(buf), parse_http=True):
        if rec.record_type == WarcRecordType.response:
            rec.reader.read()
            _ = rec.http_headers.get("Content-Type", "") if rec.http_headers is not None else ""
            n += 1
    return n


def pipeline_iter(path: str, rules: list) -> int:
    n = 0
    for outcome, rec in iter_warc(path):
        if outcome != "kept":
            continue
        for rule in rules:
            try:
                rec, reason = rule(rec)
            except RecordError:
                break
            if reason is not None:
                break
        n += 1
    return n


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.process_time()  # CPU time of this process: robust to other load on the host
        fn()
        times.append(time.process_time() - t)
    return min(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicate", type=int, default=5, help="copies of the sample in memory")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--data", default=SAMPLE)
    ap.add_argument("--inputs", default="non-Japanese,all",
                    help="comma-separated: non-Japanese, all")
    ap.add_argument("--json", default=None, help="also write every round's times and ratios here")
    args = ap.parse_args(argv)

    labels = load_labels(os.path.join(args.data, "labels.tsv"))
    members = [m for p in sorted(glob.glob(os.path.join(args.data, "*.warc.gz"))) for m in split_members(p)]
    non_ja = b"".join(b for rid, b in members if rid is not None and not labels.get(rid, {}).get("positive"))
    everything = b"".join(b for _, b in members)
    inputs = {"non-Japanese": non_ja * args.replicate, "all": everything * args.replicate}
    inputs = {k: v for k, v in inputs.items() if k in args.inputs.split(",")}

    decode = DecodeRule()
    modes = {}
    for mode in ("swallow", "kana", "both"):
        modes[mode] = PrefilterRule(PrefilterConfig(mode=mode))
    modes["both(evidence)"] = PrefilterRule(PrefilterConfig(mode="both", evidence=True))
    for r in modes.values():
        r.setup()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, buf in inputs.items():
            path = os.path.join(tmp, f"{name}.warc.gz")
            with open(path, "wb") as f:
                f.write(buf)
            n = raw_iter(buf)
            steps = {"raw": lambda: raw_iter(buf), "read": lambda: pipeline_iter(path, []),
                     "+decode": lambda: pipeline_iter(path, [decode])}
            for mode, rule in modes.items():
                steps[f"+{mode}"] = (lambda rule=rule: pipeline_iter(path, [rule, decode]))
            # Interleaved: every round times every step once, so drift in the machine's speed
            # hits all of them alike; each step's figure is its best round, each ratio the
            # median over rounds of (step / raw) within the same round.
            rounds = {k: [] for k in steps}
            for _ in range(args.repeat):
                for k, fn in steps.items():
                    rounds[k].append(best_of(fn, 1))
            line = {"input": name, "records": n, "MB": len(buf) / 1e6}
            for k in steps:
                ratios = [t / r for t, r in zip(rounds[k], rounds["raw"])]
                line[k] = min(rounds[k])
                line[k + ":ratio"] = statistics.median(ratios)
                line[k + ":ratio_range"] = (min(ratios), max(ratios))
                line[k + ":rounds_s"] = rounds[k]
            rows.append(line)

    cols = ["raw", "read", "+decode", "+swallow", "+kana", "+both", "+both(evidence)"]
    print(f"{'input':14} {'records':>7} {'MB gz':>6}  " + "  ".join(f"{c:>16}" for c in cols))
    for line in rows:
        cells = []
        for c in cols:
            us = 1e6 * line[c] / line["records"]
            cells.append(f"{us:7.0f}us {line[c + ':ratio']:5.2f}x")
        print(f"{line['input']:14} {line['records']:7d} {line['MB']:6.1f}  " + "  ".join(f"{c:>16}" for c in cells))
    print("CPU time per record (best of %d interleaved rounds); ratio = median over rounds of the "
          "step's time / raw fastwarc iteration's time in the same round" % args.repeat)
    print("per-round ratio range (min-max):")
    for line in rows:
        print(f"  {line['input']:14} " + "  ".join(
            f"{c} {line[c + ':ratio_range'][0]:.2f}-{line[c + ':ratio_range'][1]:.2f}" for c in cols[1:]))
    if args.json:
        import json

        with open(args.json, "w") as f:
            json.dump({"argv": sys.argv[1:] if argv is None else argv, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
