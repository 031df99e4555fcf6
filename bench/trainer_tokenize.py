"""Tokenisation throughput and memory: ``trainer.tokenize`` vs the floor.

    python bench/trainer_tokenize.py [--scales 1 4 16] [--out bench/work/trainer_tokenize.json]

Input: the test fixture's real Japanese Parquet, replicated ``scale`` times
into one file with ``--row-group-rows`` rows per row group.  (Parquet
metadata is parsed whole and grows with the number of row groups -- with
100-row groups that, not the text, is what makes RSS grow.)
Per scale, in a fresh single-threaded process each:

* ``floor``: ``Tokenizer.encode_batch_fast`` on texts already in memory --
  the tokenizer alone, no Parquet reading and no writing;
* ``ours``: ``trainer.tokenize.tokenize_file`` (stream Parquet, encode,
  append EOS, write .bin/.idx).

Reports tokens/s per core for both, their ratio, and peak RSS (ru_maxrss)
of ``ours``, which should stay flat as the input grows.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, "tests", "data", "trainer")
TOKENIZER = os.path.join(DATA, "tokenizer.json")

CHILD = r"""
import json, os, resource, sys, time
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
mode, src, tok_path, out = sys.argv[1:5]
if mode == "floor":
    import pyarrow.parquet as pq
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(tok_path)
    texts = pq.read_table(src, columns=["text"]).column(0).to_pylist()
    t = time.perf_counter()
    n = 0
    for i in range(0, len(texts), 1024):
        n += sum(len(e.ids) + 1 for e in tok.encode_batch_fast(texts[i:i + 1024], add_special_tokens=False))
    dt = time.perf_counter() - t
else:
    sys.path.insert(0, sys.argv[5])
    from trainer.tokenize import tokenize_file
    t = time.perf_counter()
    r = tokenize_file(src, out, tok_path)
    dt = time.perf_counter() - t
    n = r.tokens
print(json.dumps({"tokens": n, "seconds": dt, "cpu_seconds": time.process_time(),
                  "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_input(scale: int, path: str, row_group_rows: int) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(os.path.join(DATA, f)) for f in sorted(os.listdir(DATA)) if f.endswith(".parquet")]
    base = pa.concat_tables(tables)
    pq.write_table(pa.concat_tables([base] * scale), path, row_group_size=row_group_rows, compression="zstd")
    return sum(len(t.encode()) for t in base.column("text").to_pylist()) * scale


def child(mode: str, src: str, out: str) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, mode, src, TOKENIZER, out, REPO],
                         check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scales", type=int, nargs="+", default=[1, 4, 16])
    p.add_argument("--repeats", type=int, default=3, help="best of N runs")
    p.add_argument("--row-group-rows", type=int, default=10_000)
    p.add_argument("--out", default=os.path.join(REPO, "bench", "work", "trainer_tokenize.json"))
    a = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for scale in a.scales:
            src = os.path.join(tmp, f"in-{scale}.parquet")
            text_bytes = make_input(scale, src, a.row_group_rows)
            floor = min((child("floor", src, "") for _ in range(a.repeats)), key=lambda r: r["seconds"])
            ours = min((child("ours", src, os.path.join(tmp, f"out-{scale}")) for _ in range(a.repeats)),
                       key=lambda r: r["seconds"])
            row = {
                "scale": scale,
                "text_mib": text_bytes / 2**20,
                "tokens": ours["tokens"],
                "floor_tokens_per_s_core": floor["tokens"] / floor["seconds"],
                "ours_tokens_per_s_core": ours["tokens"] / ours["seconds"],
                "ours_max_rss_mib": ours["max_rss_mib"],
                "floor_max_rss_mib": floor["max_rss_mib"],
            }
            row["ratio_to_floor"] = row["ours_tokens_per_s_core"] / row["floor_tokens_per_s_core"]
            assert floor["tokens"] == ours["tokens"], (floor, ours)
            rows.append(row)
            print(json.dumps(row), flush=True)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as fh:
        json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
