"""``python -m bench marginal``: what one more record costs through the whole DAG, and what a run
costs before the first record, measured side by side in one run.

For each input kind — ``nonja`` (only the sample's non-Japanese responses: what 95% of a Common
Crawl snapshot is) and ``ja`` (the whole real sample, Japanese-heavy) — the v1 recipe runs on
FnApiRunner with one and with two SDK worker processes, at two input sizes and on an input with
no response at all. Every input is spread over two files (one per core), so a file holds
thousands of records as Common Crawl's do (CC files hold ~40k responses, ~1 GB gzip: the large
inputs here are as close as the time of one bench run allows; the sizes are in the results).

From the CPU-seconds of the whole process tree (runner + SDK workers + extraction children):

- **marginal cost** per response = (CPU(large) − CPU(small)) / (responses(large) − responses(small));
- **fixed cost** = CPU(small) − marginal × responses(small), cross-checked against the run on an
  input with no response (``empty``);
- **floors**, in every pass and on the same files: raw fastwarc iteration (parse every record,
  read every response body, nothing else) and the in-process rule chain (the same rules without
  Beam: ``bench/chain.py``, in one and in two concurrent processes, fitted over the same two
  sizes as the DAG, so its start-up and model loads cancel as the DAG's do), so Beam's own cost
  per record, and what two busy processes cost this machine without Beam, are measured ratios;
  every figure, floors included, is the median over the passes;
- **start-up breakdown**: interpreter + imports, pipeline construction, translation to the runner
  API (``bench.startup_probe``); the rest of the fixed cost is the runner's (stage scheduling, SDK
  worker start, DoFn set-up in every worker);
- **peak RSS per process** (runner, each SDK worker), the figure ``runbooks/sizing.md`` reads;
- **datatrove** ``WarcReader → Trafilatura → LanguageFilter(ja)`` (its own venv) on the large
  Japanese-heavy input, with the pages each side extracts (they differ: ours extracts only what
  the prefilter keeps, datatrove every HTML response).

Writes ``bench/results/marginal-<stem>.json`` and ``.md``; ``bench/cost_model.py`` reads the
JSON (no figure in it has a default).
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import sys
import time

from bench import measure, replicate, spine
from bench.harness import CORES, ROOT, SAMPLE, WORK, log, nonja_ids

RESULTS = os.path.join(ROOT, "bench", "results")
#: Goals (side by side, one run): non-ja marginal ≤ 1.5× raw fastwarc at two workers; two workers
#: ≤ 1.1× the CPU per record of one; end to end on the Japanese-heavy mix ≥ 5× datatrove per
#: CPU-second at two workers including start-up, on ≥ 10k responses.
GOALS = {"nonja_marginal_vs_raw": 1.5, "two_vs_one_worker": 1.1, "ja_vs_datatrove": 5.0,
         "ja_min_responses": 10_000}


# ------------------------------------------------------------------------------------ inputs
def make_input(kind: str, responses: int, sample: str = SAMPLE, work: str = WORK) -> dict:
    """``responses`` (at least) responses of ``kind`` over ``CORES`` files; cached under ``work``."""
    files = replicate.sample_files(os.path.join(sample, "*.warc.gz"))
    keep = None
    if kind == "nonja":
        ids = nonja_ids(sample)
        keep = lambda raw: replicate.record_id(raw) in ids  # noqa: E731
        per_copy = len(ids)
    elif kind == "ja":
        per_copy = sum(1 for line in open(os.path.join(sample, "labels.tsv"))) - 1
    else:
        raise ValueError(f"input kind {kind!r}: expected nonja or ja")
    copies = max(1, -(-responses // per_copy))
    out = os.path.join(work, "marginal", f"{kind}-{copies}x-{CORES}f")
    stamp = os.path.join(out, "_stats.json")
    if not os.path.exists(stamp):
        shutil.rmtree(out, ignore_errors=True)
        st = replicate.replicate(files, out, copies, keep=keep, level=1, out_files=CORES)
        st["copies"] = copies
        with open(stamp, "w") as f:
            json.dump(st, f)
    with open(stamp) as f:
        st = json.load(f)
    st["dir"], st["glob"] = out, os.path.join(out, "*.warc.gz")
    st["kind"] = kind
    return st


def empty_input(work: str = WORK) -> dict:
    """One file holding a single warcinfo record: the run reads no response (pure start-up)."""
    out = os.path.join(work, "marginal", "empty")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "empty.warc.gz")
    if not os.path.exists(path):
        import gzip

        body = b"software: bench.marginal\r\n"
        rec = (b"WARC/1.0\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000000>\r\n"
               b"WARC-Date: 2023-01-01T00:00:00Z\r\nContent-Type: application/warc-fields\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body + b"\r\n\r\n")
        with open(path, "wb") as f:
            f.write(gzip.compress(rec, mtime=0))
    return {"kind": "empty", "responses": 0, "files": [path], "glob": path, "uncompressed_bytes": 0, "bytes": os.path.getsize(path)}


# ------------------------------------------------------------------------------------ runs
def ours(inp: dict, workers: int, out: str, logs: str, timeout_s: float, recipe: str = "v1") -> dict:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "bench.ours_pipeline", "--input", inp["glob"], "--output", out, "--recipe", recipe,
           "--rejects", "ids", f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"]
    name = f"ours {recipe} {inp['kind']} {inp['responses']} responses, {workers} worker(s)"
    log(f"run {name}")
    m = measure.run_measured(cmd, timeout_s, cwd=ROOT, log_path=os.path.join(logs, name.replace(" ", "_").replace(",", "") + ".log"))
    row = {"name": name, "kind": inp["kind"], "workers": workers, "responses": inp["responses"], **m}
    if m.get("ok"):
        rep = _report(out)
        row["records_read"] = m["result"]["records_read"]
        row["kept"] = m["result"]["kept"]
        row["pages_extracted"] = rep.get("extract_in")
        row["responses_per_cpu_s"] = round(inp["responses"] / m["cpu_s"], 1) if inp["responses"] else None
        if row["records_read"] != inp["responses"]:
            row["warning"] = f"records_read {row['records_read']} != responses in the input {inp['responses']}"
    log(f"  cpu {m['cpu_s']} s, wall {m['wall_s']} s, rss {m.get('peak_rss_by_process_mb')}" if m.get("ok") else f"  FAILED {m.get('error')}")
    return row


def _report(out: str) -> dict:
    try:
        with open(os.path.join(out, "report.json")) as f:
            r = json.load(f)
    except (OSError, ValueError):
        return {}
    funnel = {s["stage"]: s for s in r.get("funnel", [])}
    # pages entering extraction = pages after the stage before it
    order = [s["stage"] for s in r.get("funnel", [])]
    if "extract" in order and order.index("extract") > 0:
        return {"extract_in": funnel[order[order.index("extract") - 1]]["pages_after"]}
    return {}


def datatrove(inp: dict, out: str, logs: str, timeout_s: float) -> dict:
    from bench.peers import envs

    py, err, _ = envs.ensure("datatrove", log=log)
    name = f"datatrove WarcReader → Trafilatura → LanguageFilter(ja), {inp['responses']} responses, {CORES} workers"
    if not py:
        return {"name": name, "ok": False, "error": err}
    shutil.rmtree(out, ignore_errors=True)
    log(f"run {name}")
    cmd = [py, os.path.join(ROOT, "bench", "peers", "run_datatrove.py"), "warc", "--input-dir", inp["dir"],
           "--out", out, "--workers", str(CORES)]
    m = measure.run_measured(cmd, timeout_s, env=dict(os.environ, PYTHONPATH=""), cwd=ROOT,
                             log_path=os.path.join(logs, "datatrove.log"))
    row = {"name": name, "kind": inp["kind"], "workers": CORES, "responses": inp["responses"], **m}
    if m.get("ok"):
        res = m["result"]
        row["kept"] = res.get("docs_out")
        steps = res.get("stats") or {}  # datatrove's own per-step stats: the extractor's input count
        row["pages_extracted"] = next((v.get("stats", {}).get("total") for k, v in steps.items() if "Trafilatura" in k), None)
        row["responses_per_cpu_s"] = round(inp["responses"] / m["cpu_s"], 1)
    log(f"  cpu {m['cpu_s']} s, wall {m['wall_s']} s" if m.get("ok") else f"  FAILED {m.get('error')}")
    return row


def chain(inp: dict, procs: int, logs: str, timeout_s: float) -> dict:
    """The per-record rules without Beam (``bench/chain.py``) over ``inp``'s files in ``procs``
    concurrent processes: CPU-s of the whole process tree (interpreter, model loads, the
    extraction children), measured and fitted like a DAG run (:func:`fit` over two sizes), so
    fixed costs cancel the same way on both sides of a ratio; plus the per-rule times."""
    files = sorted(glob.glob(inp["glob"]))
    name = f"in-process chain {inp['kind']} {inp['responses']} responses, {procs} process(es)"
    log(f"run {name}")
    m = measure.run_measured([sys.executable, "-m", "bench.chain", "--procs", str(procs), *files], timeout_s,
                             cwd=ROOT, log_path=os.path.join(logs, name.replace(" ", "_").replace(",", "") + ".log"))
    r = m.get("result") or {}
    row = {"name": name, "kind": inp["kind"], "workers": procs, "responses": inp["responses"], "ok": m["ok"],
           "error": m.get("error"), "cpu_s": m["cpu_s"], "wall_s": m["wall_s"], "stages": r.get("stages"),
           "peak_rss_by_process_mb": m.get("peak_rss_by_process_mb")}
    if m["ok"] and r.get("responses") != inp["responses"]:
        row.update(ok=False, error=f"the chain read {r.get('responses')} responses, the input has {inp['responses']}")
    log(f"  cpu {m['cpu_s']} s, wall {m['wall_s']} s" if row["ok"] else f"  FAILED {row.get('error')}")
    return row


def startup_probe(timeout_s: float = 300) -> dict:
    """Imports, construction and translation of the v1 DAG, in a fresh interpreter (CPU-s)."""
    m = measure.run_measured([sys.executable, "-m", "bench.startup_probe"], timeout_s, cwd=ROOT)
    return {**(m.get("result") or {}), "process_cpu_s": m["cpu_s"], "ok": m["ok"], "error": m.get("error")}


def floor(inp: dict) -> dict:
    """Raw fastwarc iteration over ``inp``'s files: CPU-s of this process around the loop (no
    start-up to cancel), once per pass like every other configuration."""
    files = sorted(glob.glob(inp["glob"]))
    t = time.process_time()
    n = spine.raw_iterate(files)
    dt = time.process_time() - t
    return {"kind": inp["kind"], "responses": n, "cpu_s": round(dt, 3), "us_per_response": round(1e6 * dt / n, 1)}


def floors(rows: list[dict]) -> dict:
    """Per input kind, the median µs per response over the passes (the estimator of the runs)."""
    import statistics

    out = {}
    for kind in sorted({r["kind"] for r in rows}):
        us = [r["us_per_response"] for r in rows if r["kind"] == kind]
        out[kind] = {"responses": next(r["responses"] for r in rows if r["kind"] == kind),
                     "us_per_response": round(statistics.median(us), 1), "us_per_response_passes": us}
    return out


# ------------------------------------------------------------------------------------ fit
def fit(small: dict, large: dict, empty: dict | None) -> dict:
    """Marginal µs per response and fixed CPU-s from two sizes (same kind, same workers)."""
    if not (small.get("ok") and large.get("ok")) or large["responses"] <= small["responses"]:
        return {"ok": False}
    marg = (large["cpu_s"] - small["cpu_s"]) / (large["responses"] - small["responses"])
    fixed = small["cpu_s"] - marg * small["responses"]
    return {"ok": True, "marginal_us_per_response": round(1e6 * marg, 1), "fixed_cpu_s": round(fixed, 2),
            "empty_run_cpu_s": empty.get("cpu_s") if empty and empty.get("ok") else None,
            "responses": [small["responses"], large["responses"]], "cpu_s": [small["cpu_s"], large["cpu_s"]]}


def _ratio(a, b):
    return round(a / b, 2) if a and b else None


def medians(runs: list[dict]) -> list[dict]:
    """One row per (input kind, workers, responses): the median CPU-s over the passes that ran."""
    import statistics

    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault((r["kind"], r["workers"], r["responses"]), []).append(r)
    out = []
    for (kind, w, n), rows in groups.items():
        ok = [r for r in rows if r.get("ok")]
        if not ok:
            out.append({**rows[0], "passes": len(rows)})
            continue
        cpu = statistics.median(r["cpu_s"] for r in ok)
        out.append({**ok[0], "cpu_s": round(cpu, 2), "cpu_s_passes": [r["cpu_s"] for r in ok], "passes": len(rows),
                    "responses_per_cpu_s": round(n / cpu, 1) if n else None,
                    "wall_s": round(statistics.median(r["wall_s"] for r in ok), 2)})
    return out


def in_process(chain_runs: list[dict]) -> dict:
    """The in-process chain's fits: ``nonja``, ``ja`` (one process) and ``ja_2_procs``, each the
    marginal µs per response over its two sizes (medians of the passes) with the per-rule times
    of its large input's last pass."""
    rows = medians(chain_runs)
    out = {}
    for key, kind, procs in (("nonja", "nonja", 1), ("ja", "ja", 1), ("ja_2_procs", "ja", 2)):
        sized = sorted((r for r in rows if r["kind"] == kind and r["workers"] == procs), key=lambda r: r["responses"])
        if len(sized) < 2:
            continue
        f = fit(sized[0], sized[-1], None)
        if f.get("ok"):
            f["us_per_response"] = f["marginal_us_per_response"]
            f["stages"] = next((r.get("stages") for r in reversed(chain_runs) if r.get("ok") and r["kind"] == kind
                                and r["workers"] == procs and r["responses"] == sized[-1]["responses"]), None)
        out[key] = f
    return out


def per_pass_ratios(res: dict, kind: str, workers: int) -> list[float]:
    """The marginal ÷ raw fastwarc ratio of each pass alone (its own two sizes, its own floor): how
    far one pass moves on this machine."""
    out = []
    for p in sorted({r.get("pass") for r in res.get("floor_runs", [])}):
        floor_us = next((r["us_per_response"] for r in res["floor_runs"] if r["pass"] == p and r["kind"] == kind), None)
        rows = sorted((r for r in res["runs"] if r.get("pass") == p and r["kind"] == kind and r["workers"] == workers
                       and r.get("ok")), key=lambda r: r["responses"])
        if floor_us and len(rows) >= 2:
            f = fit(rows[0], rows[-1], None)
            if f.get("ok"):
                out.append(_ratio(f["marginal_us_per_response"], floor_us))
    return out


def summarise(res: dict) -> dict:
    runs = medians(res["runs"])
    fits, goals = {}, {}
    floor, ip = floors(res["floor_runs"]), in_process(res["chain_runs"])
    for kind in ("nonja", "ja"):
        for w in (1, 2):
            rows = sorted((r for r in runs if r["kind"] == kind and r["workers"] == w), key=lambda r: r["responses"])
            empty = next((r for r in runs if r["kind"] == "empty" and r["workers"] == w), None)  # median row
            if len(rows) >= 2:
                fits[f"{kind}_{w}w"] = fit(rows[0], rows[-1], empty)
    nj2, nj1, ja1, ja2 = (fits.get(k, {}) for k in ("nonja_2w", "nonja_1w", "ja_1w", "ja_2w"))
    if nj2.get("ok"):
        r = _ratio(nj2["marginal_us_per_response"], floor["nonja"]["us_per_response"])
        goals["non-ja marginal (2 workers) ÷ raw fastwarc"] = {"value": r, "goal": f"≤ {GOALS['nonja_marginal_vs_raw']}",
                                                               "met": r is not None and r <= GOALS["nonja_marginal_vs_raw"],
                                                               "passes": per_pass_ratios(res, "nonja", 2)}
    for kind, a, b in (("non-ja", nj2, nj1), ("ja-heavy", ja2, ja1)):
        if a.get("ok") and b.get("ok"):
            r = _ratio(a["marginal_us_per_response"], b["marginal_us_per_response"])
            goals[f"{kind} marginal: 2 workers ÷ 1 worker"] = {"value": r, "goal": f"≤ {GOALS['two_vs_one_worker']}",
                                                                "met": r is not None and r <= GOALS["two_vs_one_worker"]}
    dt = res.get("datatrove") or {}
    big = max((r for r in runs if r["kind"] == "ja" and r["workers"] == CORES and r.get("ok")),
              key=lambda r: r["responses"], default=None)
    if dt.get("ok") and big:
        r = _ratio(big["responses_per_cpu_s"], dt["responses_per_cpu_s"])
        goals["ja-heavy end to end (2 workers, start-up included) ÷ datatrove, per CPU-s"] = {
            "value": r, "goal": f"≥ {GOALS['ja_vs_datatrove']} on ≥ {GOALS['ja_min_responses']:,} responses",
            "met": r is not None and r >= GOALS["ja_vs_datatrove"] and big["responses"] >= GOALS["ja_min_responses"],
            "differs": (f"ours runs the whole v1 DAG (prefilter, resiliparse, lid.176, quality, NG words, PII, dedup, "
                        f"host filter, normalise, Parquet) and extracts {big.get('pages_extracted')} pages (the prefilter's "
                        f"survivors); datatrove runs WarcReader → Trafilatura → LanguageFilter(ja) and extracts "
                        f"{dt.get('pages_extracted')} pages (every HTML response)")}
    ja_c, nj_c, ja_c2 = (ip.get(k) or {} for k in ("ja", "nonja", "ja_2_procs"))
    if ja2.get("ok") and ja_c.get("us_per_response"):
        goals["ja-heavy marginal (2 workers) ÷ the same rules in-process (Beam and the aggregate stages)"] = {
            "value": _ratio(ja2["marginal_us_per_response"], ja_c["us_per_response"]), "goal": "(measured)", "met": None,
            "differs": "the in-process chain runs no dedup, host filter or Parquet writers"}
    if nj2.get("ok") and nj_c.get("us_per_response"):
        goals["non-ja marginal (2 workers) ÷ the same rules in-process"] = {
            "value": _ratio(nj2["marginal_us_per_response"], nj_c["us_per_response"]), "goal": "(measured)", "met": None}
    if ja_c.get("us_per_response") and ja_c2.get("us_per_response"):
        goals["in-process chain: 2 concurrent processes ÷ 1 (this machine, no Beam)"] = {
            "value": _ratio(ja_c2["us_per_response"], ja_c["us_per_response"]), "goal": "(measured)", "met": None,
            "differs": "what two busy processes cost this machine per record without any Beam"}
    return {"floors": floor, "in_process": ip, "fits": fits, "goals": goals}


# ------------------------------------------------------------------------------------ main
def run(args) -> dict:
    started = time.time()
    stem = args.stem or time.strftime("%Y-%m-%d")
    work = os.path.join(WORK, "marginal-run")
    logs = os.path.join(work, "logs")
    os.makedirs(logs, exist_ok=True)
    res = {"date": stem, "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
           "machine": {"cores": os.cpu_count(), "loadavg_start": [round(x, 2) for x in os.getloadavg()]},
           "params": {k: v for k, v in vars(args).items() if k != "func"}, "inputs": {}, "runs": []}
    inputs = {"empty": empty_input()}
    for kind, sizes in (("nonja", args.nonja_sizes), ("ja", args.ja_sizes)):
        for n in sizes:
            log(f"input {kind} {n}")
            inputs[f"{kind}-{n}"] = make_input(kind, n, args.sample)
    res["inputs"] = {k: {x: v[x] for x in ("kind", "responses", "records", "bytes", "uncompressed_bytes", "copies") if x in v}
                     for k, v in inputs.items()}
    nj_large = inputs[f"nonja-{max(args.nonja_sizes)}"]
    ja_large = inputs[f"ja-{max(args.ja_sizes)}"]
    res["startup"] = startup_probe()
    res["floor_runs"], res["chain_runs"] = [], []
    # Every configuration once per pass -- the raw fastwarc floor, the in-process chain at both
    # sizes, the DAG -- the passes one after the other: a burst of load on this shared machine
    # hits one run of each configuration at most; every figure is the median over the passes.
    for rep in range(args.repeat):
        log(f"pass {rep + 1}: raw fastwarc floor, in-process chains, the DAG")
        for inp in (nj_large, ja_large):
            res["floor_runs"].append({**floor(inp), "pass": rep + 1})
        for kind, sizes, procs in (("nonja", args.nonja_sizes, (1,)), ("ja", args.ja_sizes, (1, 2))):
            for n in sizes:
                for k in procs:
                    row = chain(inputs[f"{kind}-{n}"], k, logs, args.timeout)
                    row["pass"] = rep + 1
                    res["chain_runs"].append(row)
        for w in args.workers:
            for key in inputs:
                row = ours(inputs[key], w, os.path.join(work, "out", f"{key}-{w}"), logs, args.timeout)
                row["pass"] = rep + 1
                res["runs"].append(row)
    if not args.no_datatrove:
        res["datatrove"] = datatrove(ja_large, os.path.join(work, "out", "datatrove"), logs, args.timeout)
    res.update(summarise(res))
    res["total_s"] = round(time.time() - started, 1)
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, f"marginal-{stem}.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
    with open(path[:-5] + ".md", "w") as f:
        f.write(render(res))
    log(f"wrote {path} (.md) in {res['total_s']} s")
    return res


def render(res: dict) -> str:
    from bench.marginal_report import render as _render

    return _render(res)
