"""Sizing and cost estimate for a full Common Crawl snapshot and for the paper's scale.

    python runbooks/sizing.py [--read_ms 0.694] [--deep_ms 16.4] [--pass_rate 0.05] ...

Inputs (defaults = measured once on tests/data/warc, 569 responses, one core of a 2-core Xeon,
in-process via bench.spine.stage_rates / nonja_cost; see runbooks/sizing.md):
  read_ms   read + decode + prefilter, per WARC response record (every page pays it)
  deep_ms   extract + langid + quality + NG words + normalise, per page passing the prefilter
  overhead  Beam/runner overhead over the in-process chain (serialisation, shuffle, I/O)
"""
from __future__ import annotations

import argparse
import json


def estimate(pages: float, read_ms: float, deep_ms: float, pass_rate: float, overhead: float,
             usd_per_vcpu_h: float, vcpus: int) -> dict:
    core_s = pages * read_ms / 1e3 + pages * pass_rate * deep_ms / 1e3
    core_h = core_s * overhead / 3600
    return {"pages": pages, "core_hours": round(core_h), "wall_hours_at_vcpus": round(core_h / vcpus, 2),
            "vcpus": vcpus, "usd_compute": round(core_h * usd_per_vcpu_h)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--read_ms", type=float, default=0.694)
    ap.add_argument("--deep_ms", type=float, default=16.4)
    ap.add_argument("--pass_rate", type=float, default=0.05)
    ap.add_argument("--overhead", type=float, default=1.3)
    # Dataflow batch, us-central1 list price: $0.056/vCPU-h + 3.75 GB x $0.003557/GB-h (n1-standard).
    ap.add_argument("--usd_per_vcpu_h", type=float, default=0.0693)
    ap.add_argument("--vcpus", type=int, default=1000)
    ap.add_argument("--snapshot_pages", type=float, default=3.0e9)
    ap.add_argument("--paper_pages", type=float, default=63.35e9)
    a = ap.parse_args(argv)
    common = dict(read_ms=a.read_ms, deep_ms=a.deep_ms, pass_rate=a.pass_rate, overhead=a.overhead,
                  usd_per_vcpu_h=a.usd_per_vcpu_h, vcpus=a.vcpus)
    out = {"inputs": vars(a),
           "one_snapshot": estimate(a.snapshot_pages, **common),
           "paper_21_snapshots": estimate(a.paper_pages, **common),
           "one_snapshot_read_x3": estimate(a.snapshot_pages, **{**common, "read_ms": 3 * a.read_ms})}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
