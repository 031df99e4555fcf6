"""Cost of the prefilter modes against the floor: raw fastwarc iteration.

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
goal is ≤ 1.5x on non-Japanese records.

Method (CPU time of this process). On a shared VM the machine's speed drifts by ±50% within
a second, so timing each step over the whole input, one after another, gives per-round ratios
from 0.8 to 2.1. Instead the input is cut into chunks of ``--chunk`` records (~3 ms of raw
iteration each) and every step runs on a chunk before the next chunk, in an order that rotates
from chunk to chunk: all steps see the same machine state, and none always runs right after
another on the same bytes. A round is one pass over the input; a step's ratio in a round is
its CPU time over raw's, summed over the chunks; the figure is the median over ``--repeat``
rounds, with the range. Run: ``python bench/prefilter_bench.py [--replicate 5] [--repeat 5]
[--chunk 16] [--inputs non-Japanese] [--json out.json]``.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import glob
import io
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from fastwarc.warc import ArchiveIterator, WarcRecordType  # noqa: E402

from transforms.decode import DecodeRule  # noqa: E402
from pipeline.prefilter_eval import load_labels  # noqa: E402
from transforms.prefilter import PrefilterConfig, PrefilterRule  # noqa: E402
from transforms.warc_records import iter_warc, record_hash  # noqa: E402
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


def pipeline_iter(buf: bytes, rules: list, name: str = "bench.warc.gz") -> int:
    """Our record loop (:func:`iter_warc`) on ``buf``, each kept record through ``rules`` until
    one rejects it or raises."""
    n = 0
    for outcome, rec in iter_warc(name, stream=io.BytesIO(buf)):
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


def interleaved_rounds(chunks: list[bytes], steps: dict, repeat: int) -> dict[str, list[float]]:
    """CPU seconds per step per round: each round runs every step on each chunk in turn, in an
    order rotated by one step from chunk to chunk."""
    names = list(steps)
    rounds = {k: [] for k in names}
    clock = time.process_time
    gc.collect()
    for _ in range(repeat):
        total = dict.fromkeys(names, 0.0)
        for c, chunk in enumerate(chunks):
            for j in range(len(names)):
                k = names[(c + j) % len(names)]
                t = clock()
                steps[k](chunk)
                total[k] += clock() - t
        for k in names:
            rounds[k].append(total[k])
    return rounds


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicate", type=int, default=5, help="copies of the sample in memory")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--chunk", type=int, default=16, help="response records per interleaved chunk")
    ap.add_argument("--data", default=SAMPLE)
    ap.add_argument("--inputs", default="non-Japanese,all",
                    help="comma-separated: non-Japanese, all")
    ap.add_argument("--json", default=None, help="also write every round's times and ratios here")
    args = ap.parse_args(argv)

    labels = load_labels(os.path.join(args.data, "labels.tsv"))
    members = [m for p in sorted(glob.glob(os.path.join(args.data, "*.warc.gz"))) for m in split_members(p)]
    # One response (with its request/warcinfo neighbours on the "all" input) per member.
    non_ja = [b for rid, b in members if rid is not None and not labels.get(rid, {}).get("positive")]
    inputs = {"non-Japanese": non_ja * args.replicate, "all": [b for _, b in members] * args.replicate}
    inputs = {k: v for k, v in inputs.items() if k in args.inputs.split(",")}

    decode = DecodeRule()
    modes = {}
    for mode in ("swallow", "kana", "both"):
        modes[mode] = PrefilterRule(PrefilterConfig(mode=mode))
    modes["both(evidence)"] = PrefilterRule(PrefilterConfig(mode="both", evidence=True))
    for r in modes.values():
        r.setup()

    rows = []
    for name, parts in inputs.items():
        buf = b"".join(parts)
        n = raw_iter(buf)
        per = max(1, args.chunk * len(parts) // max(1, n))  # members per chunk
        chunks = [b"".join(parts[i : i + per]) for i in range(0, len(parts), per)]
        steps = {"raw": raw_iter, "read": lambda b: pipeline_iter(b, []),
                 "+decode": lambda b: pipeline_iter(b, [decode])}
        for mode, rule in modes.items():
            steps[f"+{mode}"] = (lambda b, rule=rule: pipeline_iter(b, [rule, decode]))
        for fn in steps.values():  # warm-up: imports, model pages, regex caches
            fn(chunks[0])
        rounds = interleaved_rounds(chunks, steps, args.repeat)
        line = {"input": name, "records": n, "MB": len(buf) / 1e6, "chunks": len(chunks)}
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
    print("CPU time per record (best of %d rounds, steps interleaved chunk by chunk); ratio = median "
          "over rounds of the step's time / raw fastwarc iteration's time in the same round" % args.repeat)
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
