"""Markdown of ``bench/marginal.py``'s results (``bench/results/marginal-<stem>.md``)."""
from __future__ import annotations


def _n(x, digits=1):
    if x is None:
        return "—"
    return f"{x:,.{digits}f}" if isinstance(x, float) else f"{x:,}"


def render(res: dict) -> str:
    out = [f"# Marginal and fixed cost of the whole DAG, {res['date']}", "",
           f"Machine: {res['machine']['cores']} cores, load average at start {res['machine']['loadavg_start']}. "
           "CPU-seconds of the whole process tree (runner, SDK workers, extraction children), FnApiRunner "
           "with `--direct_running_mode=multi_processing`, recipe v1. Regenerate: "
           "`python -m bench marginal` (the parameters are in the JSON).", "", "## Inputs", "",
           "| input | responses | WARC records | gzip MB | WARC MB |", "|---|---:|---:|---:|---:|"]
    for k, v in res["inputs"].items():
        out.append(f"| {k} | {_n(v.get('responses'))} | {_n(v.get('records'))} | {_n((v.get('bytes') or 0) / 1e6)} | "
                   f"{_n((v.get('uncompressed_bytes') or 0) / 1e6)} |")
    f = res["floors"]
    ip = res.get("in_process") or {}
    if "floor_runs" in res:  # floors and chains measured in every pass, the chain fitted over two sizes
        passes = (f" (passes: non-ja {', '.join(_n(x) for x in f['nonja']['us_per_response_passes'])}; ja-heavy "
                  f"{', '.join(_n(x) for x in f['ja']['us_per_response_passes'])})")
        title = "## Floors (same files, every pass, medians)"
        raw = "raw fastwarc iteration (one core, CPU of the loop)"
        how = ("marginal CPU of the whole process tree over the two input sizes, fitted as the DAG's runs are, "
               "so start-up and model loads cancel")
    else:  # results written before 2026-12-07's second run: once per bench, CPU of the record loops
        passes = ""
        title = "## Floors (same files, same run, one core, in-process)"
        raw = "raw fastwarc iteration"
        how = "CPU of the record loops, extraction children included, start-up and model loads not"
    out += ["", title, "",
            f"- {raw}: non-ja {_n(f['nonja']['us_per_response'])} µs per response, "
            f"ja-heavy {_n(f['ja']['us_per_response'])} µs per response{passes}",
            f"- the v1 per-record rules without Beam (`bench/chain.py`; {how}): non-ja "
            f"{_n((ip.get('nonja') or {}).get('us_per_response'))} µs per response; ja-heavy {_n((ip.get('ja') or {}).get('us_per_response'))} µs "
            f"in one process, {_n((ip.get('ja_2_procs') or {}).get('us_per_response'))} µs with two processes at once"]
    stages = (ip.get("ja") or {}).get("stages") or []
    if stages:
        out += ["", "| rule (ja-heavy, in-process) | records entering | µs per record entering |", "|---|---:|---:|"]
        out += [f"| {s['stage']} | {_n(s['entered'])} | {_n(s['us_per_entering'])} |" for s in stages]
    st = res.get("startup") or {}
    out += ["", "## Start-up, before the first record (fresh interpreter, CPU-s)", "",
            f"imports of Beam {_n(st.get('import_beam_cpu_s'), 2)}, of our stages {_n(st.get('import_ours_cpu_s'), 2)}, "
            f"DAG construction {_n(st.get('build_cpu_s'), 2)}, translation to the runner API "
            f"{_n(st.get('to_runner_api_cpu_s'), 2)} ({st.get('transforms')} transforms, {st.get('leaf_transforms')} leaves; "
            f"FnApiRunner fuses them into {st.get('fused_stages')} stages). "
            "The rest of a run's fixed cost is the runner's: stage scheduling, SDK worker start, DoFn set-up "
            "(models, tries, blocklists) in every worker. On Dataflow/Flink/Spark construction and translation "
            "run once per job on the launcher and a worker's set-up once per worker process, not per bundle."]
    out += ["", "## Runs", "", f"Every configuration ran {res['params'].get('repeat', 1)} time(s), one pass after the other; "
            "the fits below use the median CPU-s of each configuration.", "",
            "| run | pass | responses | workers | CPU s | wall s | responses/CPU-s | pages extracted | kept | peak RSS MB by process |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in res["runs"] + res.get("chain_runs", []) + ([res["datatrove"]] if res.get("datatrove") else []):
        rss = "; ".join(f"{k} {', '.join(str(x) for x in v[:3])}" for k, v in (r.get("peak_rss_by_process_mb") or {}).items())
        if not r.get("ok"):
            out.append(f"| {r['name']} | {r.get('pass', '')} | {_n(r.get('responses'))} | {r.get('workers')} | failed: {r.get('error')} | | | | | |")
            continue
        out.append(f"| {r['name']} | {r.get('pass', '')} | {_n(r['responses'])} | {r['workers']} | {_n(r['cpu_s'], 2)} | {_n(r['wall_s'], 2)} | "
                   f"{_n(r.get('responses_per_cpu_s'))} | {_n(r.get('pages_extracted'))} | {_n(r.get('kept'))} | {rss} |")
    out += ["", "## Marginal and fixed cost (medians of the passes)", "",
            "| input, workers | responses | median CPU-s | marginal µs per response | fixed CPU-s (fit) | empty-input run CPU-s |",
            "|---|---|---|---:|---:|---:|"]
    chains = {f"in-process chain {k}": v for k, v in (res.get("in_process") or {}).items()
              if "marginal_us_per_response" in v}  # fitted chains only
    for k, v in {**res.get("fits", {}), **chains}.items():
        if v.get("ok"):
            out.append(f"| {k} | {' → '.join(f'{x:,}' for x in v['responses'])} | {' → '.join(str(x) for x in v['cpu_s'])} | "
                       f"{_n(v['marginal_us_per_response'])} | {_n(v['fixed_cpu_s'], 2)} | {_n(v.get('empty_run_cpu_s'), 2)} |")
    out += ["", "## Ratios and goals", "", "| ratio | value | goal | met | what differs |", "|---|---:|---|---|---|"]
    for k, v in res.get("goals", {}).items():
        met = "—" if v.get("met") is None else ("yes" if v["met"] else "no")
        value = f"{v.get('value')}" + (f" (passes: {', '.join(str(x) for x in v['passes'])})" if v.get("passes") else "")
        out.append(f"| {k} | {value} | {v.get('goal')} | {met} | {v.get('differs', '')} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # python -m bench.marginal_report bench/results/marginal-<stem>.json: rewrite the .md
    import json
    import sys

    for path in sys.argv[1:]:
        with open(path) as f:
            res = json.load(f)
        with open(path[:-5] + ".md", "w") as f:
            f.write(render(res))
        print(path[:-5] + ".md")
