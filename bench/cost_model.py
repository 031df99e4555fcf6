"""Paper-scale cost model (issue 8): measured per-stage costs × the Swallow v1 stage counts.

Counts (Okazaki et al., NLP2024): 63.35 B pages read; the rapid prefilter passes ~5% of them
(App. A) to extraction; 2.69 B pages are Japanese after LID; 646 M pass the quality rules; 186 M
remain after dedup. Every stage's cost is ``pages entering it × CPU-µs per page`` (measured by the
harness on this machine, one core); Beam's own per-element overhead is applied as a factor
measured side by side (whole pipeline on FnApiRunner ÷ the same rules in-process).

``python -m bench.cost_model [results.json]`` prints the arithmetic.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field

PAPER = {
    "pages": 63.35e9,
    "prefilter_pass_frac": 0.05,   # App. A: ~5% of pages pass the rapid prefilter
    "ja_after_lid": 2.69e9,
    "after_quality": 646e6,
    "after_dedup": 186e6,
    "snapshots": 21,               # CC snapshots in Swallow v1 (2020-40 … 2023-23)
}

#: Dataflow batch prices, us-central1, USD (list prices; FlexRS ≈ 40% off vCPU/memory).
PRICES = {"vcpu_hour": 0.056, "gb_hour": 0.003557, "gb_per_vcpu": 3.75, "flexrs_discount": 0.4}

#: Default per-page CPU-µs, overwritten from a results JSON (these are the committed run's).
DEFAULT_US = {"read_decode_prefilter": 1500.0, "extract": 6000.0, "langid": 10000.0,
              "quality": 15000.0, "harmful": 3000.0, "dedup": 20000.0, "normalize": 1500.0}


@dataclass
class CostModel:
    us_per_page: dict = field(default_factory=lambda: dict(DEFAULT_US))
    beam_overhead: float = 1.0
    counts: dict = field(default_factory=lambda: dict(PAPER))

    def stage_pages(self, pages: float | None = None) -> dict:
        """Pages entering each stage for a build of ``pages`` input pages (default: the paper's)."""
        c = self.counts
        scale = (pages or c["pages"]) / c["pages"]
        prefiltered = c["pages"] * c["prefilter_pass_frac"]
        return {"read_decode_prefilter": c["pages"] * scale, "extract": prefiltered * scale,
                "langid": prefiltered * scale, "quality": c["ja_after_lid"] * scale,
                "harmful": c["after_quality"] * scale, "dedup": c["after_quality"] * scale,
                "normalize": c["after_dedup"] * scale}

    def estimate(self, pages: float | None = None) -> dict:
        rows, total = [], 0.0
        for stage, n in self.stage_pages(pages).items():
            us = self.us_per_page[stage]
            hours = n * us * self.beam_overhead / 3.6e9
            total += hours
            rows.append({"stage": stage, "pages": n, "us_per_page": us, "core_hours": hours,
                         "arithmetic": f"{n:.4g} pages × {us:.0f} µs × {self.beam_overhead:.2f} / 3.6e9 = {hours:,.0f} core-h"})
        return {"rows": rows, "core_hours": total, "dollars": dollars(total)}


def dollars(core_hours: float, p: dict = PRICES) -> dict:
    """Dataflow cost range. Low: 1 core = 1 vCPU, FlexRS. High: 1 core = 2 vCPUs (a vCPU is a
    hyperthread), list price. Memory at ``gb_per_vcpu`` per vCPU (n1-standard)."""
    per_vcpu = p["vcpu_hour"] + p["gb_per_vcpu"] * p["gb_hour"]
    low = core_hours * per_vcpu * (1 - p["flexrs_discount"])
    high = core_hours * 2 * per_vcpu
    return {"low_usd": low, "high_usd": high, "per_vcpu_hour_usd": per_vcpu}


def from_results(results: dict) -> CostModel:
    """Per-page CPU-µs from a harness results dict (spine stage rates + dedup rate)."""
    m = CostModel()
    spine = results.get("spine") or {}
    by = {s["stage"].split(" ")[0]: s for s in spine.get("stages", [])}
    nj = spine.get("nonja") or {}
    if nj.get("read_decode_prefilter_us_per_record"):
        m.us_per_page["read_decode_prefilter"] = nj["read_decode_prefilter_us_per_record"]
    for stage in ("langid", "quality", "harmful", "normalize"):
        if by.get(stage, {}).get("us_per_record"):
            m.us_per_page[stage] = by[stage]["us_per_record"]
    ex = [s for s in spine.get("stages", []) if s["stage"].startswith("extract") and "child" in s["stage"]]
    if ex and ex[0].get("us_per_record"):
        m.us_per_page["extract"] = ex[0]["us_per_record"]
    for wl in results.get("workloads", []):
        if wl.get("name", "").startswith("3"):
            ours = [c for c in wl.get("contenders", []) if c["name"].startswith("ours") and c.get("ok") and c.get("per_cpu_s")]
            if ours:  # the largest scale measured
                m.us_per_page["dedup"] = 1e6 / ours[-1]["per_cpu_s"]
    if spine.get("beam_overhead"):
        m.beam_overhead = spine["beam_overhead"]
    return m


def report(m: CostModel) -> dict:
    full = m.estimate()
    snap = m.estimate(m.counts["pages"] / m.counts["snapshots"])
    return {"us_per_page": m.us_per_page, "beam_overhead": m.beam_overhead, "full": full,
            "one_snapshot": snap, "goal_core_hours": 5000, "goal_met": full["core_hours"] <= 5000}


def render(r: dict) -> str:
    out = []
    for key, title in (("full", "Full Swallow v1 build (63.35 B pages)"),
                       ("one_snapshot", "One CC snapshot (63.35 B / 21 pages)")):
        out.append(f"{title}:")
        for row in r[key]["rows"]:
            out.append(f"  {row['stage']:<22} {row['arithmetic']}")
        d = r[key]["dollars"]
        out.append(f"  total {r[key]['core_hours']:,.0f} core-hours; Dataflow ${d['low_usd']:,.0f} – ${d['high_usd']:,.0f}")
    out.append(f"goal ≤ 5,000 core-hours for the full build: {'met' if r['goal_met'] else 'missed'}")
    return "\n".join(out)


if __name__ == "__main__":
    res = json.load(open(sys.argv[1])) if len(sys.argv) > 1 else {}
    print(render(report(from_results(res))))
