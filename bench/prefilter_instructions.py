"""Deterministic work ratio of the prefilter on non-Japanese records: instructions, not seconds.

CPU-time ratios on a shared 2-core VM move by ±0.2 between runs, which is the size of the margin
the spine/kana goals (≤ 1.5× raw fastwarc iteration) are about. Instruction counts from
``valgrind --tool=callgrind`` do not depend on the machine's load, so this bench gives a ratio
that every rerun reproduces. It is a proxy: the Python code it measures runs at a lower IPC than
inflate, so time ratios are higher than instruction ratios (report both).

Method: for each mode (``raw`` = fastwarc iteration reading every response payload; ``swallow``,
``kana``, ``both`` = ``iter_warc`` → Prefilter → Decode of survivors, the DAG's order), run the
same script under callgrind on the sample's non-Japanese records ×1 and ×N; the difference of the
two totals divided by the difference of the record counts is the marginal instructions per record
(start-up and imports cancel).

    python bench/prefilter_instructions.py [--big 5]   # needs valgrind; ~2 min per run
"""
from __future__ import annotations

import argparse
import glob
import io
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
RESULTS = os.path.join(ROOT, "bench", "results")


def workload(mode: str, reps: int) -> int:
    """Run one mode over the non-Japanese records replicated ``reps`` times; returns records."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from bench.prefilter_bench import split_members
    from bench.spine import prefilter_chain
    from transforms.decode import DecodeRule
    from pipeline.prefilter_eval import load_labels
    from transforms.prefilter import PrefilterConfig, PrefilterRule

    sample = os.path.join(ROOT, "tests", "data", "warc")
    labels = load_labels(os.path.join(sample, "labels.tsv"))
    members = [m for p in sorted(glob.glob(os.path.join(sample, "*.warc.gz"))) for m in split_members(p)]
    buf = b"".join(b for rid, b in members if rid is not None and not labels.get(rid, {}).get("positive")) * reps
    rule = PrefilterRule(PrefilterConfig(mode="swallow" if mode == "raw" else mode))
    rule.setup()
    decode = DecodeRule()
    rule({"id": "warm", "html": b"<html><title>warm up</title></html>", "charset": None})
    n = 0
    if mode == "raw":
        for rec in ArchiveIterator(io.BytesIO(buf), parse_http=True):
            if rec.record_type == WarcRecordType.response:
                rec.reader.read()
                n += 1
        return n
    with tempfile.NamedTemporaryFile(suffix=".warc.gz") as f:
        f.write(buf)
        f.flush()
        n, _ = prefilter_chain([f.name], rule, decode)
    return n


def instructions(mode: str, reps: int) -> tuple[int, int]:
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                            os.path.abspath(__file__), "--run", mode, str(reps)],
                           capture_output=True, text=True, cwd=ROOT)
    m = re.search(r"Collected : (\d+)", p.stderr)
    n = re.search(r"^records (\d+)$", p.stdout, re.M)
    if not (m and n):
        raise RuntimeError(f"callgrind run failed for {mode} x{reps}: {p.stderr[-2000:]}")
    return int(n.group(1)), int(m.group(1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", type=int, default=5)
    ap.add_argument("--run", nargs=2, metavar=("MODE", "REPS"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.run:
        print(f"records {workload(a.run[0], int(a.run[1]))}")
        return 0
    res = {}
    for mode in ("raw", "swallow", "kana", "both"):
        n1, i1 = instructions(mode, 1)
        n2, i2 = instructions(mode, a.big)
        res[mode] = {"records": [n1, n2], "instructions": [i1, i2], "per_record": (i2 - i1) / (n2 - n1)}
        print(mode, round(res[mode]["per_record"]), flush=True)
    for mode in ("swallow", "kana", "both"):
        res[mode]["ratio_vs_raw"] = round(res[mode]["per_record"] / res["raw"]["per_record"], 3)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "prefilter_instructions.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps({m: res[m].get("ratio_vs_raw") for m in res}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
