"""Results writer: ``bench/results/<date>.json``, a markdown table ``<date>.md`` and a PNG plot."""
from __future__ import annotations

import json
import os


def fmt(v, nd=1):
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def rate_rows(results: dict) -> list[dict]:
    """One flat row per (workload, contender) for the table and the plot."""
    rows = []
    for wl in results.get("workloads", []):
        for c in wl.get("contenders", []):
            rows.append({"workload": wl["name"], "contender": c["name"], "ok": c.get("ok", False),
                         "unit": wl.get("unit", "records"), "items": c.get("items"),
                         "per_cpu_s": c.get("per_cpu_s"), "per_s_per_core": c.get("per_s_per_core"),
                         "wall_s": c.get("wall_s"), "cpu_s": c.get("cpu_s"), "peak_rss_mb": c.get("peak_rss_mb"),
                         "out_items": c.get("out_items"), "out_bytes": c.get("out_bytes"),
                         "error": c.get("error"), "note": c.get("note")})
    return rows


def _contender(results: dict, wl_prefix: str, name_prefix: str) -> dict:
    for wl in results.get("workloads", []):
        if wl["name"].startswith(wl_prefix):
            for c in wl.get("contenders", []):
                if c["name"].startswith(name_prefix):
                    return c
    return {}


def _dt_steps(c: dict) -> dict:
    """datatrove's own per-step stats (``stats.json``): step name → {time_s, stats}."""
    return ((c.get("result") or {}).get("stats")) or {}


def differs(results: dict) -> dict:
    """Ratio name → what the two sides of the ratio do differently (pages extracted, tokenisers),
    from the results themselves: a ratio of unequal work says so."""
    out = {}
    spine = results.get("spine") or {}
    ours_extracted = (spine.get("kept_after") or {}).get("prefilter")
    for key, dt_prefix, wl in (("W1", "datatrove", "1"), ("W4", "datatrove", "4")):
        dt = _contender(results, wl, dt_prefix)
        steps = _dt_steps(dt)
        ex = next((v for k, v in steps.items() if "Trafilatura" in k), None)
        dt_extracted = (ex or {}).get("stats", {}).get("total")
        note = []
        if ours_extracted and dt_extracted:
            note.append(f"pages extracted: ours {ours_extracted:,} (the prefilter's survivors, measured in-process on the "
                        f"same input), datatrove {dt_extracted:,} (every HTML response)")
        gopher = next((v for k, v in steps.items() if "Gopher" in k), None)
        total = sum((v.get("time_s") or 0) for v in steps.values())
        if gopher and total:
            note.append(f"{100 * (gopher.get('time_s') or 0) / total:.0f}% of datatrove's step time is GopherRepetition, "
                        "whose Japanese word tokeniser is spaCy + SudachiPy; ours runs the whole v1 DAG (quality rules "
                        "on characters, NG words, dedup, normalise, Parquet)")
        if note:
            for name in results.get("ratios", {}):
                if name.startswith(key) and "datatrove" in name and "Gopher" not in name:
                    text = "; ".join(note)
                    ours = _contender(results, wl, "ours with" if "trafilatura" in name else "ours")
                    if ours_extracted and dt_extracted and ours.get("cpu_s") and dt.get("cpu_s"):
                        per_page = (ours_extracted / ours["cpu_s"]) / (dt_extracted / dt["cpu_s"])
                        text += f"; per extracted page the ratio is {per_page:.2f}"
                    out[name] = text
    if "W2 ours ÷ datatrove Gopher" in results.get("ratios", {}):
        out["W2 ours ÷ datatrove Gopher"] = "datatrove's Gopher repetition filter tokenises Japanese words with spaCy + SudachiPy"
    return out


def markdown(results: dict) -> str:
    lines = [f"# Benchmark results {results.get('date', '')}", "",
             f"Machine: {results.get('machine', {}).get('cores', '?')} cores, "
             f"{results.get('machine', {}).get('mem_gb', '?')} GB; load average at start "
             f"{results.get('machine', {}).get('loadavg_start', '?')}. Input: {results.get('input', {}).get('summary', '')}", "",
             "Rates are items per CPU-second of the contender's whole process tree (`/cpu-s`, the "
             "per-core rate, robust to a shared machine) and items per wall second divided by the "
             "cores it used (`/s/core`).", "",
             "| workload | contender | items | /cpu-s | /s/core | wall s | CPU s | peak RSS MB | out items | out MB | note |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rate_rows(results):
        note = r["note"] or ""
        if not r["ok"]:
            note = f"**failed**: {r['error']}"[:300]
        lines.append("| {workload} | {contender} | {items} | {pc} | {ps} | {wall} | {cpu} | {rss} | {oi} | {ob} | {note} |".format(
            workload=r["workload"], contender=r["contender"], items=fmt(r["items"]), pc=fmt(r["per_cpu_s"]),
            ps=fmt(r["per_s_per_core"]), wall=fmt(r["wall_s"]), cpu=fmt(r["cpu_s"]), rss=fmt(r["peak_rss_mb"], 0),
            oi=fmt(r["out_items"]), ob=fmt(r["out_bytes"] / 1e6 if r["out_bytes"] is not None else None, 2),
            note=note.replace("|", "/")))
    if results.get("ratios"):
        diff = differs(results)
        lines += ["", "## Ratios and goals", "", "Every ratio divides items per CPU-second; where the two sides do different "
                  "work, the last column says what differs.", "",
                  "| ratio | value (CPU) | value (wall) | goal | met | what differs |", "|---|---:|---:|---|---|---|"]
        for k, v in results["ratios"].items():
            lines.append(f"| {k} | {fmt(v.get('cpu'), 2)} | {fmt(v.get('wall'), 2)} | {v.get('goal', '')} | "
                         f"{'yes' if v.get('met') else ('—' if v.get('met') is None else 'no')} | {diff.get(k, '')} |")
    if results.get("dedup_overlap"):
        lines += ["", "## Dedup: removed sets", "", "| scale | docs | ours | datasketch | datatrove | ours∩datasketch | ours=datasketch | ours∩datatrove |",
                  "|---|---:|---:|---:|---:|---:|---|---:|"]
        for o in results["dedup_overlap"]:
            lines.append(f"| {o['scale']}× | {fmt(o['docs'])} | {fmt(o.get('ours'))} | {fmt(o.get('datasketch'))} | "
                         f"{fmt(o.get('datatrove'))} | {fmt(o.get('ours_and_datasketch'))} | "
                         f"{o.get('ours_equals_datasketch')} | {fmt(o.get('ours_and_datatrove'))} |")
    spine = results.get("spine")
    if spine and spine.get("stages"):
        lines += ["", "## Spine: each stage alone (in-process, one core)", "",
                  f"{spine['responses']:,} responses; in-process chain {fmt(spine.get('in_process_chain_records_per_s'))} records/s.", "",
                  "| stage | records in | records/s | µs/record | µs per input record |", "|---|---:|---:|---:|---:|"]
        for s in spine["stages"]:
            lines.append(f"| {s['stage']} | {fmt(s['records'])} | {fmt(s['records_per_s'])} | {fmt(s['us_per_record'])} | {fmt(s['us_per_input_record'])} |")
        nj = spine.get("nonja")
        if nj:
            lines += ["", f"Non-Japanese records ({nj['records']:,}): raw iteration {nj['raw_us_per_record']} µs/record, "
                      f"read {nj['read_us_per_record']} µs, read+decode+prefilter {nj['read_decode_prefilter_us_per_record']} µs "
                      f"= **{nj['ratio_vs_raw']}× raw** (goal ≤ {nj['goal_ratio']}×: {'met' if nj['goal_met'] else 'missed'}); "
                      f"{nj['prefilter_passed']} passed the prefilter."]
        if spine.get("pipeline_nonja"):
            pn = spine["pipeline_nonja"]
            lines += ["", f"Whole pipeline on FnApiRunner, non-Japanese input: {pn.get('us_per_record_marginal')} µs/record marginal "
                      f"(= {pn.get('ratio_vs_raw')}× raw iteration; fixed start-up {pn.get('startup_s')} s)."]
    if results.get("profile"):
        lines += ["", f"## Profile of our slowest stage: {results['profile']['stage']}", "",
                  "| function | calls | tottime s | cumtime s |", "|---|---:|---:|---:|"]
        for p in results["profile"]["top"]:
            lines.append(f"| `{p['function']}` | {p['calls']} | {p['tottime_s']} | {p['cumtime_s']} |")
    return "\n".join(lines) + "\n"


def plot(results: dict, path: str) -> str | None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = [r for r in rate_rows(results) if r["ok"] and r["per_cpu_s"]]
    if not rows:
        return None
    wls = list(dict.fromkeys(r["workload"] for r in rows))
    fig, axes = plt.subplots(1, len(wls), figsize=(4.2 * len(wls), 4), squeeze=False)
    for ax, wl in zip(axes[0], wls):
        rs = [r for r in rows if r["workload"] == wl]
        ax.barh([r["contender"] for r in rs], [r["per_cpu_s"] for r in rs],
                color=["tab:blue" if r["contender"].startswith("ours") else "tab:gray" for r in rs])
        ax.set_title(wl, fontsize=9)
        ax.set_xlabel(f"{rs[0]['unit']} per CPU-second")
        ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def rerender(json_path: str) -> str:
    """Rewrite the ``.md`` beside a results JSON from the JSON (``python -m bench.report FILE.json``)."""
    with open(json_path) as f:
        results = json.load(f)
    md = json_path[:-5] + ".md"
    with open(md, "w") as f:
        f.write(markdown(results))
    return md


def write_all(results: dict, out_dir: str, stem: str) -> dict:
    os.makedirs(out_dir, exist_ok=True)
    paths = {"json": os.path.join(out_dir, f"{stem}.json"), "md": os.path.join(out_dir, f"{stem}.md"),
             "png": os.path.join(out_dir, f"{stem}.png")}
    with open(paths["json"], "w") as f:
        json.dump(results, f, indent=1, ensure_ascii=False, default=str)
    with open(paths["md"], "w") as f:
        f.write(markdown(results))
    if plot(results, paths["png"]) is None:
        paths.pop("png")
    return paths


if __name__ == "__main__":
    import sys

    for path in sys.argv[1:]:
        print(rerender(path))
