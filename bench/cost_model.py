"""Paper-scale cost model: measured per-stage costs × the Swallow v1 stage counts.

Counts (Okazaki et al., NLP2024): 63.35 B pages read; the rapid prefilter passes ~5% of them
(App. A) to extraction; 2.69 B pages are Japanese after LID; 646 M pass the quality rules; 186 M
remain after dedup. Every stage's cost is ``pages entering it × CPU-µs per page`` (measured by the
harness on this machine, one core); Beam's own per-element overhead is applied as a factor
measured side by side (whole pipeline on FnApiRunner ÷ the same rules in-process).

Reading is scaled by bytes to Common Crawl's page size: CC-MAIN-2023-23 holds 3.1 B pages in
390 TiB of uncompressed WARC (Common Crawl's announcement and statistics of the May/June 2023
crawl), i.e. ~138 KB per page (response + request + metadata records), while the sample the read
cost is measured on has ~37 KB per page. A full scan must inflate all of it; the extra bytes cost
``(138 KB − sample bytes) / inflate rate`` per page (zlib inflate, MB/s of output per core,
measured by ``bench/index_bench.py``).

Two designs for the read:
- **full scan**: every WARC record of every page is inflated and parsed (ReadWarc);
- **index-assisted** (``--index``, transforms/read_index.py): CC's columnar URL index is scanned
  (one row per page, pyarrow + ``select``) and only the selected pages are read by byte range
  (one gzip member each). Selected share: Japanese in CLD2's top-3 languages (≈ 4–5 % of CC pages;
  the paper keeps 2.69 B of 63.35 B = 4.2 % after its own LID) plus rows with null
  ``content_languages`` (crawls before CC-MAIN-2018-39 — none of Swallow v1's 21 snapshots,
  2020-40 … 2023-23 — and pages where CLD2 found no text). Everything downstream is the same.

``python -m bench.cost_model [results.json ...] [--index F] [--dedup F]`` prints the arithmetic
(several harness results: per-stage medians).
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

#: CC-MAIN-2023-23: 3.1 B pages, 390 TiB uncompressed WARC → bytes of WARC per page.
CC_PAGE_BYTES = 390 * 2**40 / 3.1e9

#: Index-assisted read: share of index rows selected (see the module docstring).
INDEX_SELECTION = {"japanese_frac": 0.05, "null_language_frac": 0.02}

#: Read figures measured by ``bench/index_bench.py`` (used when a results file is given).
DEFAULT_INDEX_RESULTS = "bench/results/2026-11-29-index.json"

#: Dedup cost measured by ``bench/dedup_bench.py scale``: the whole Dedup stage on FnApiRunner
#: (runner + worker CPU-seconds per document at the largest scale, Beam overhead included).
DEFAULT_DEDUP_RESULTS = "bench/results/dedup_scale.json"

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
    #: From bench/index_bench.py: inflate_mb_per_s, sample_bytes_per_page, index_us_per_row,
    #: ranged_read_us, read_us (full-scan read alone). None: no byte scaling, no index design.
    read: dict | None = None
    selection: dict = field(default_factory=lambda: dict(INDEX_SELECTION))
    dedup_source: str = "harness workload 3 (or the default)"

    def extra_inflate_us(self) -> float:
        """µs per page to inflate CC's page size beyond the measured sample's."""
        if not self.read:
            return 0.0
        return max(0.0, CC_PAGE_BYTES - self.read["sample_bytes_per_page"]) / self.read_mb_per_s()

    def read_mb_per_s(self) -> float:
        """MB/s (uncompressed) at which the extra bytes are read: fastwarc's rate where measured
        (both readers hand gzip members to fastwarc), else Python zlib's inflate."""
        return self.read.get("fastwarc_mb_per_s") or self.read["inflate_mb_per_s"]

    def selected_frac(self) -> float:
        return self.selection["japanese_frac"] + self.selection["null_language_frac"]

    def stage_pages(self, pages: float | None = None) -> dict:
        """Pages entering each stage for a build of ``pages`` input pages (default: the paper's)."""
        c = self.counts
        scale = (pages or c["pages"]) / c["pages"]
        prefiltered = c["pages"] * c["prefilter_pass_frac"]
        return {"read_decode_prefilter": c["pages"] * scale, "extract": prefiltered * scale,
                "langid": prefiltered * scale, "quality": c["ja_after_lid"] * scale,
                "harmful": c["after_quality"] * scale, "dedup": c["after_quality"] * scale,
                "normalize": c["after_dedup"] * scale}

    def read_rows(self, pages: float, design: str) -> list[tuple[str, float, float]]:
        """(stage, pages or rows, µs each) of the read for one design."""
        front = self.us_per_page["read_decode_prefilter"]
        if design == "full_scan":
            rows = [("read_decode_prefilter", pages, front)]
            if self.read:
                rows.append(("read: inflate to CC page size", pages, self.extra_inflate_us()))
            return rows
        r = self.read
        selected = pages * self.selected_frac()
        decode_prefilter = max(0.0, front - r["read_us"])  # the front stage less its read part
        return [("index scan + select", pages, r["index_us_per_row"]),
                ("ranged read + decode + prefilter", selected, r["ranged_read_us"] + decode_prefilter),
                ("ranged read: inflate to CC page size", selected, self.extra_inflate_us())]

    def estimate(self, pages: float | None = None, design: str = "full_scan") -> dict:
        if design not in ("full_scan", "index") or (design == "index" and not self.read):
            raise ValueError(f"design {design!r}: expected full_scan, or index with read figures")
        n_pages = self.stage_pages(pages)
        stages = self.read_rows(n_pages.pop("read_decode_prefilter"), design)
        stages += [(stage, n, self.us_per_page[stage]) for stage, n in n_pages.items()]
        rows, total = [], 0.0
        for stage, n, us in stages:
            hours = n * us * self.beam_overhead / 3.6e9
            total += hours
            rows.append({"stage": stage, "pages": n, "us_per_page": us, "core_hours": hours,
                         "arithmetic": f"{n:.4g} × {us:,.1f} µs × {self.beam_overhead:.2f} / 3.6e9 = {hours:,.0f} core-h"})
        return {"design": design, "rows": rows, "core_hours": total, "dollars": dollars(total)}


def dollars(core_hours: float, p: dict = PRICES) -> dict:
    """Dataflow cost range. Low: 1 core = 1 vCPU, FlexRS. High: 1 core = 2 vCPUs (a vCPU is a
    hyperthread), list price. Memory at ``gb_per_vcpu`` per vCPU (n1-standard)."""
    per_vcpu = p["vcpu_hour"] + p["gb_per_vcpu"] * p["gb_hour"]
    low = core_hours * per_vcpu * (1 - p["flexrs_discount"])
    high = core_hours * 2 * per_vcpu
    return {"low_usd": low, "high_usd": high, "per_vcpu_hour_usd": per_vcpu}


def read_figures(index_results: dict, results: dict | None = None) -> dict:
    """The read figures of :class:`CostModel` from ``bench/index_bench.py``'s results."""
    c = index_results["cpu"]
    nj = ((results or {}).get("spine") or {}).get("nonja") or {}
    return {"inflate_mb_per_s": c["inflate_mb_per_s"], "fastwarc_mb_per_s": c.get("fastwarc_mb_per_s"),
            "sample_bytes_per_page": c["uncompressed_bytes"] / c["responses"],
            "index_us_per_row": c["index_assisted"]["scan_select_us_per_row"],
            "ranged_read_us": c["index_assisted"]["ranged_read_us_per_selected_record"],
            # The front stage's own read part: measured with it where the harness did, else here.
            "read_us": nj.get("read_us_per_record") or c["full_scan"]["iter_warc_us_per_response"]}


def from_results(results: dict, index_results: dict | None = None,
                 dedup_scale: list | None = None) -> CostModel:
    """Per-page CPU-µs from a harness results dict (spine stage rates + dedup rate), the read
    figures from an index bench results dict (both designs; without it, the full scan only), and
    the dedup rate from ``dedup_bench.py scale`` rows (preferred: 200k documents, not the
    harness's few thousand)."""
    m = CostModel()
    if index_results:
        m.read = read_figures(index_results, results)
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
    if dedup_scale:
        big = max(dedup_scale, key=lambda row: row["docs"])
        m.us_per_page["dedup"] = 1e6 * (big["cpu_s_runner"] + big["cpu_s_workers"]) / big["docs"]
        m.dedup_source = f"dedup_bench scale: {big['docs']:,} documents, {big['workers']} workers, runner + worker CPU"
    if spine.get("beam_overhead"):
        m.beam_overhead = spine["beam_overhead"]
    return m


def median_results(runs: list[dict]) -> dict:
    """One harness results dict whose spine figures are the per-stage medians of ``runs``
    (several ``python -m bench spine`` runs: this machine's noise is ±20% between runs, so a
    single run can move the total by a thousand core-hours). Other keys come from the first."""
    import statistics

    if len(runs) == 1:
        return runs[0]
    out = dict(runs[0])
    spines = [r.get("spine") or {} for r in runs]
    stages = {}
    for sp in spines:
        for st in sp.get("stages", []):
            if st.get("us_per_record"):
                stages.setdefault(st["stage"], []).append(st["us_per_record"])
    nonja = {}
    for sp in spines:
        for k, v in (sp.get("nonja") or {}).items():
            if k.endswith("_us_per_record") and v:
                nonja.setdefault(k, []).append(v)
    spine = dict(spines[0])
    spine["stages"] = [{"stage": k, "us_per_record": statistics.median(v), "runs": len(v)} for k, v in stages.items()]
    spine["nonja"] = {**(spines[0].get("nonja") or {}), **{k: statistics.median(v) for k, v in nonja.items()}}
    out["spine"] = spine
    out["median_of_runs"] = len(runs)
    return out


def report(m: CostModel) -> dict:
    full = m.estimate()
    snap = m.estimate(m.counts["pages"] / m.counts["snapshots"])
    r = {"us_per_page": m.us_per_page, "beam_overhead": m.beam_overhead, "read": m.read,
         "dedup_source": m.dedup_source,
         "full": full, "one_snapshot": snap, "goal_core_hours": 5000, "goal_met": full["core_hours"] <= 5000,
         "cc_page_bytes": CC_PAGE_BYTES}
    if m.read:
        idx = m.estimate(design="index")
        r.update(index_full=idx, index_one_snapshot=m.estimate(m.counts["pages"] / m.counts["snapshots"], "index"),
                 index_goal_met=idx["core_hours"] <= 5000, selected_frac=m.selected_frac())
    return r


def render(r: dict) -> str:
    out = []
    if r.get("read"):
        rd = r["read"]
        rate = rd.get("fastwarc_mb_per_s") or rd["inflate_mb_per_s"]
        out.append(f"Read figures: fastwarc {rate:.0f} MB/s per core (zlib alone {rd['inflate_mb_per_s']:.0f}); sample "
                   f"{rd['sample_bytes_per_page'] / 1e3:.1f} KB/page vs CC {r['cc_page_bytes'] / 1e3:.1f} KB/page "
                   f"(CC-MAIN-2023-23: 390 TiB / 3.1 B pages) → +{(r['cc_page_bytes'] - rd['sample_bytes_per_page']) / rate:.0f} µs/page; "
                   f"index {rd['index_us_per_row']:.2f} µs/row; ranged read {rd['ranged_read_us']:.0f} µs/record; "
                   f"selected share {r['selected_frac']:.0%}")
    sections = [("full", "Full Swallow v1 build (63.35 B pages), design: full scan", "goal_met"),
                ("one_snapshot", "One CC snapshot (63.35 B / 21 pages), design: full scan", None),
                ("index_full", "Full Swallow v1 build (63.35 B pages), design: index-assisted read", "index_goal_met"),
                ("index_one_snapshot", "One CC snapshot (63.35 B / 21 pages), design: index-assisted read", None)]
    for key, title, goal in sections:
        if key not in r:
            continue
        out.append(f"{title}:")
        for row in r[key]["rows"]:
            out.append(f"  {row['stage']:<36} {row['arithmetic']}")
        d = r[key]["dollars"]
        out.append(f"  total {r[key]['core_hours']:,.0f} core-hours; Dataflow ${d['low_usd']:,.0f} – ${d['high_usd']:,.0f}")
        if goal:
            out.append(f"  goal ≤ 5,000 core-hours for the full build: {'met' if r[goal] else 'missed'}")
    out.append(f"dedup: {r['dedup_source']}")
    return "\n".join(out)


def _load(path: str | None) -> dict | None:
    import os

    return json.load(open(path)) if path and os.path.exists(path) else None


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m bench.cost_model")
    ap.add_argument("results", nargs="*", help="harness results JSON(s); several: per-stage medians")
    ap.add_argument("--index", default=DEFAULT_INDEX_RESULTS, help="bench/index_bench.py results")
    ap.add_argument("--dedup", default=DEFAULT_DEDUP_RESULTS, help="bench/dedup_bench.py scale results")
    a = ap.parse_args(argv)
    runs = [json.load(open(p)) for p in a.results]
    res = median_results(runs) if runs else {}
    print(render(report(from_results(res, _load(a.index), _load(a.dedup)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
