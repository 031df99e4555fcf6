"""Paper-scale cost model: core-hours of a Swallow v1 build from figures measured through the whole
DAG (``bench/marginal.py``), with no factor that has a default.

Counts (Okazaki et al., NLP2024): 63.35 B pages read; the rapid prefilter passes ~5% of them (App. A)
to extraction; 2.69 B pages are Japanese after LID; 646 M pass the quality rules; 186 M remain after
dedup. One CC snapshot is 63.35 B / 21 pages.

Per-page CPU, all from one ``python -m bench marginal`` results file unless stated:

- **every page**: the whole DAG's marginal CPU per non-Japanese response at two SDK workers (read,
  prefilter, rejects written: what 95% of a snapshot costs), plus the inflate of the bytes a Common
  Crawl page has beyond the measured input's (CC-MAIN-2023-23: 390 TiB of WARC for 3.1 B pages;
  at the raw fastwarc rate measured on the same files);
- **the pages each later stage sees**: the rule's in-process µs per record entering it (the same
  run, on the Japanese-heavy input) × the **measured Beam ratio**: the whole DAG's marginal per
  response on that input at two workers ÷ the same rules in-process on the same records. The ratio
  also carries the aggregate stages the in-process chain does not run (host filter, writers) at
  that input's proportions, so it errs high;
- **dedup**: ``bench/dedup_bench.py scale`` (the Dedup stage on FnApiRunner, runner + worker CPU
  per document at 200k documents, Beam included);
- **fixed**: the fitted start-up of one run, once per job (one job per snapshot);
- **index-assisted read** (``--index``): ``bench/index_bench.py`` (µs per index row scanned, per
  ranged read), the selection's share of index rows (Japanese among CLD2's top three languages,
  Common Crawl's language statistics ~5%; rows with no language ~2%, an assumption shown with its
  sensitivity), and the selection's recall on the labelled sample carried into the page counts
  (pages the index misses are never read, so every later stage sees fewer).

``python -m bench cost [marginal.json] [--index F] [--dedup F]`` prints the arithmetic; a missing
figure is an error naming it.
"""
from __future__ import annotations

import json
import os
import sys

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

#: Index-assisted read: share of index rows selected. ``japanese_frac``: Japanese among CLD2's top
#: three languages (Common Crawl's published language statistics put Japanese at ~5% of pages);
#: ``null_language_frac``: rows where CLD2 found no language (assumed; sensitivity in the output).
INDEX_SELECTION = {"japanese_frac": 0.05, "null_language_frac": 0.02}

#: Dataflow batch prices, us-central1, USD (list prices; FlexRS ≈ 40% off vCPU/memory).
PRICES = {"vcpu_hour": 0.056, "gb_hour": 0.003557, "gb_per_vcpu": 3.75, "flexrs_discount": 0.4}

DEFAULT_MARGINAL = "bench/results/marginal-2026-12-07.json"
DEFAULT_INDEX_RESULTS = "bench/results/2026-11-29-index.json"
DEFAULT_DEDUP_RESULTS = "bench/results/dedup_scale.json"

#: The v1 per-record rules (``bench/chain.py`` stage names) → the paper count of pages entering them.
RULE_PAGES = {"decode": "prefiltered", "extract": "prefiltered", "langid": "prefiltered",
              "quality": "ja_after_lid", "harmful": "after_quality", "pii": "after_quality",
              "normalize": "after_dedup", "decontaminate": "after_dedup"}


class MissingFigure(ValueError):
    """A figure the model needs is not in the results given."""


def _need(d: dict, *path):
    cur = d
    for k in path:
        if not isinstance(cur, dict) or cur.get(k) is None:
            raise MissingFigure(f"{'.'.join(str(p) for p in path)} is missing: run `python -m bench marginal` "
                                "(and bench/index_bench.py, bench/dedup_bench.py scale) and pass the results")
        cur = cur[k]
    return cur


def figures(marginal: dict, index: dict | None, dedup_scale: list | None) -> dict:
    """Every per-page figure the model uses, each from a results file (raises :class:`MissingFigure`)."""
    nonja = _need(marginal, "fits", "nonja_2w")
    ja = _need(marginal, "fits", "ja_2w")
    if not (nonja.get("ok") and ja.get("ok")):
        raise MissingFigure("fits.nonja_2w / fits.ja_2w did not fit (a run failed)")
    chain = _need(marginal, "in_process", "ja")
    inputs = _need(marginal, "inputs")
    nj_large = max((v for v in inputs.values() if v.get("kind") == "nonja"), key=lambda v: v["responses"])
    floor_us = _need(marginal, "floors", "nonja", "us_per_response")
    bytes_per_page = nj_large["uncompressed_bytes"] / nj_large["responses"]
    rules = {}
    for st in _need(chain, "stages"):
        base = st["stage"].split("_")[0].split(".")[0].lower()
        for rule in RULE_PAGES:
            if base.startswith(rule) and st.get("us_per_entering") is not None:
                rules[rule] = rules.get(rule, 0.0) + st["us_per_entering"]
    f = {"nonja_marginal_us": nonja["marginal_us_per_response"],
         "ja_marginal_us": ja["marginal_us_per_response"],
         "ja_chain_us": _need(chain, "us_per_response"),
         "rule_us": rules,
         "fixed_cpu_s": ja["fixed_cpu_s"],
         "raw_fastwarc_us": floor_us,
         "fastwarc_mb_per_s": bytes_per_page / floor_us,  # bytes per µs = MB/s
         "measured_bytes_per_page": bytes_per_page,
         "source": marginal.get("date")}
    f["beam_ratio"] = f["ja_marginal_us"] / f["ja_chain_us"]
    if dedup_scale:
        big = max(dedup_scale, key=lambda row: row["docs"])
        f["dedup_us"] = 1e6 * (big["cpu_s_runner"] + big["cpu_s_workers"]) / big["docs"]
        f["dedup_source"] = f"dedup_bench scale: {big['docs']:,} documents, {big['workers']} workers, runner + worker CPU"
    else:
        raise MissingFigure("dedup scale results (bench/dedup_bench.py scale) are missing")
    if index:
        c = _need(index, "cpu")
        sel = _need(index, "selection")
        f["index_us_per_row"] = _need(c, "index_assisted", "scan_select_us_per_row")
        f["ranged_read_us"] = _need(c, "index_assisted", "ranged_read_us_per_selected_record")
        # Japanese pages the index selection misses are never read: every later stage sees fewer
        # (on the sample the prefilter in ``both`` mode drops the same pages anyway; v1's
        # ``swallow`` mode was not measured after the selection, so the whole loss is carried)
        f["index_recall_ratio"] = _need(sel, "cld2_selection", "recall")
    return f


def stage_pages(pages: float, recall: float = 1.0) -> dict:
    c = PAPER
    s = pages / c["pages"]
    return {"prefiltered": c["pages"] * c["prefilter_pass_frac"] * s * recall,
            "ja_after_lid": c["ja_after_lid"] * s * recall, "after_quality": c["after_quality"] * s * recall,
            "after_dedup": c["after_dedup"] * s * recall}


def estimate(f: dict, pages: float, design: str = "full_scan", selection: dict = INDEX_SELECTION) -> dict:
    """Core-hours of a build of ``pages`` pages: rows of (stage, pages, µs, arithmetic)."""
    extra_us = max(0.0, CC_PAGE_BYTES - f["measured_bytes_per_page"]) / f["fastwarc_mb_per_s"]
    rows = []
    if design == "full_scan":
        recall = 1.0
        rows.append(("read + prefilter, whole DAG (non-ja marginal, 2 workers)", pages, f["nonja_marginal_us"], 1.0))
        rows.append(("read: inflate to CC page size", pages, extra_us, 1.0))
    elif design == "index":
        if "index_us_per_row" not in f:
            raise MissingFigure("index bench results (bench/index_bench.py) are missing")
        recall = f["index_recall_ratio"]
        selected = pages * (selection["japanese_frac"] + selection["null_language_frac"])
        rows.append(("index scan + select", pages, f["index_us_per_row"], 1.0))
        # the DAG's per-page cost with its own read (raw fastwarc) replaced by a ranged read
        rows.append(("ranged read + prefilter, whole DAG", selected,
                     f["ranged_read_us"] + max(0.0, f["nonja_marginal_us"] - f["raw_fastwarc_us"]), 1.0))
        rows.append(("ranged read: inflate to CC page size", selected, extra_us, 1.0))
    else:
        raise ValueError(f"design {design!r}: expected full_scan or index")
    n = stage_pages(pages, recall)
    for rule, count in RULE_PAGES.items():
        if rule in f["rule_us"]:
            rows.append((f"{rule} × Beam ratio", n[count], f["rule_us"][rule], f["beam_ratio"]))
    rows.append(("dedup (through Beam)", n["after_quality"], f["dedup_us"], 1.0))
    out, total = [], 0.0
    for stage, count, us, factor in rows:
        hours = count * us * factor / 3.6e9
        total += hours
        out.append({"stage": stage, "pages": count, "us_per_page": us, "factor": factor, "core_hours": hours,
                    "arithmetic": f"{count:.4g} × {us:,.1f} µs × {factor:.2f} / 3.6e9 = {hours:,.0f} core-h"})
    jobs = max(1, round(pages / (PAPER["pages"] / PAPER["snapshots"])))
    fixed_h = jobs * f["fixed_cpu_s"] / 3600
    out.append({"stage": "fixed start-up (one job per snapshot)", "core_hours": fixed_h,
                "arithmetic": f"{jobs} job(s) × {f['fixed_cpu_s']:.1f} CPU-s / 3600 = {fixed_h:.3f} core-h"})
    total += fixed_h
    return {"design": design, "rows": out, "core_hours": total, "dollars": dollars(total), "recall_ratio": recall}


def dollars(core_hours: float, p: dict = PRICES) -> dict:
    """Dataflow cost range. Low: 1 core = 1 vCPU, FlexRS. High: 1 core = 2 vCPUs (a vCPU is a
    hyperthread), list price. Memory at ``gb_per_vcpu`` per vCPU (n1-standard)."""
    per_vcpu = p["vcpu_hour"] + p["gb_per_vcpu"] * p["gb_hour"]
    return {"low_usd": core_hours * per_vcpu * (1 - p["flexrs_discount"]),
            "high_usd": core_hours * 2 * per_vcpu, "per_vcpu_hour_usd": per_vcpu}


def report(f: dict) -> dict:
    snap = PAPER["pages"] / PAPER["snapshots"]
    r = {"figures": f, "full": estimate(f, PAPER["pages"]), "one_snapshot": estimate(f, snap), "goal_core_hours": 5000}
    r["goal_met"] = r["full"]["core_hours"] <= 5000
    if "index_us_per_row" in f:
        r["index_full"] = estimate(f, PAPER["pages"], "index")
        r["index_one_snapshot"] = estimate(f, snap, "index")
        r["index_goal_met"] = r["index_full"]["core_hours"] <= 5000
        hi = dict(INDEX_SELECTION, null_language_frac=INDEX_SELECTION["null_language_frac"] * 2)
        r["index_full_null_x2"] = estimate(f, PAPER["pages"], "index", hi)["core_hours"]
    return r


def render(r: dict) -> str:
    f = r["figures"]
    out = [f"Figures (bench/results/marginal-{f['source']}.json unless stated): non-ja marginal {f['nonja_marginal_us']:,.1f} µs "
           f"per page at 2 workers (raw fastwarc {f['raw_fastwarc_us']:,.1f} µs); ja-heavy marginal {f['ja_marginal_us']:,.1f} µs "
           f"÷ the same rules in-process {f['ja_chain_us']:,.1f} µs = Beam ratio {f['beam_ratio']:.2f}; fixed {f['fixed_cpu_s']:.1f} "
           f"CPU-s per run; fastwarc {f['fastwarc_mb_per_s']:,.0f} MB/s on {f['measured_bytes_per_page'] / 1e3:.1f} KB pages "
           f"(CC {CC_PAGE_BYTES / 1e3:.1f} KB)."]
    sections = [("full", "Full Swallow v1 build (63.35 B pages), design: full scan", "goal_met"),
                ("one_snapshot", "One CC snapshot (63.35 B / 21 pages), design: full scan", None),
                ("index_full", "Full Swallow v1 build (63.35 B pages), design: index-assisted read", "index_goal_met"),
                ("index_one_snapshot", "One CC snapshot (63.35 B / 21 pages), design: index-assisted read", None)]
    for key, title, goal in sections:
        if key not in r:
            continue
        e = r[key]
        lost = (f" (the selection's recall ×{e['recall_ratio']:.3f} carried into the page counts: "
                f"{PAPER['ja_after_lid'] * e['recall_ratio'] / 1e9:.3f} B Japanese pages after LID instead of "
                f"{PAPER['ja_after_lid'] / 1e9:.2f} B)") if e["design"] == "index" else ""
        out.append(f"{title}{lost}:")
        for row in e["rows"]:
            out.append(f"  {row['stage']:<58} {row['arithmetic']}")
        d = e["dollars"]
        out.append(f"  total {e['core_hours']:,.0f} core-hours; Dataflow ${d['low_usd']:,.0f} – ${d['high_usd']:,.0f}")
        if goal:
            out.append(f"  goal ≤ 5,000 core-hours for the full build: {'met' if r[goal] else 'missed'}")
    if "index_full_null_x2" in r:
        out.append(f"Sensitivity: twice the assumed null-language share ({2 * INDEX_SELECTION['null_language_frac']:.0%}) gives "
                   f"{r['index_full_null_x2']:,.0f} core-hours for the index-assisted full build.")
    out.append(f"dedup: {f['dedup_source']}")
    return "\n".join(out)


def _load(path: str | None):
    if not path:
        return None
    if not os.path.exists(path):
        raise MissingFigure(f"{path}: no such results file")
    with open(path) as fh:
        return json.load(fh)


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m bench cost", description="Core-hours of a Swallow v1 build from measured figures.")
    ap.add_argument("results", nargs="?", default=DEFAULT_MARGINAL, help=f"bench/marginal.py results (default {DEFAULT_MARGINAL})")
    ap.add_argument("--index", default=DEFAULT_INDEX_RESULTS, help="bench/index_bench.py results ('' for the full scan only)")
    ap.add_argument("--dedup", default=DEFAULT_DEDUP_RESULTS, help="bench/dedup_bench.py scale results")
    a = ap.parse_args(argv)
    try:
        f = figures(_load(a.results), _load(a.index), _load(a.dedup))
    except MissingFigure as e:
        print(f"python -m bench cost: {e}", file=sys.stderr)
        return 2
    print(render(report(f)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
