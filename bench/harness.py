"""``python -m bench all``: prepare the input, run every contender side by side, write
``bench/results/<date>.{json,md,png}``.

Input: the real sample crawl bundled in ``tests/data/warc`` (569 pages, with ``labels.tsv``) replicated with distinct record ids to ≥ ``--size-mb``
MB of (uncompressed) WARC. Contenders run as measured subprocesses, one at a time (CPU seconds of
the whole process tree, peak RSS of the tree, wall); datatrove and hojichar in their own venvs
(bench/work/venvs). A contender that fails to install or to run is reported with its error.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import sys
import time

from bench import measure, replicate, report, spine
from bench.peers import envs

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORK = os.path.join(HERE, "work")
RESULTS = os.path.join(HERE, "results")
SAMPLE = os.path.join(ROOT, "tests", "data", "warc")  # the bundled real sample: a fresh clone has it
CORES = 2


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ input
def prepare_input(sample_dir: str, size_mb: float, work: str) -> dict:
    files = replicate.sample_files(os.path.join(sample_dir, "*.warc.gz"))
    copies = replicate.copies_for(files, size_mb)
    out = os.path.join(work, f"input-{copies}x")
    stamp = os.path.join(out, "_stats.json")
    if os.path.exists(stamp):
        with open(stamp) as f:
            st = json.load(f)
    else:
        shutil.rmtree(out, ignore_errors=True)
        st = replicate.replicate(files, out, copies, level=1)
        st["copies"] = copies
        with open(stamp, "w") as f:
            json.dump(st, f)
    st["dir"], st["glob"] = out, os.path.join(out, "*.warc.gz")
    st["summary"] = (f"{copies}× the real sample ({len(files)} shards) = {st['responses']:,} HTTP responses, "
                     f"{st['uncompressed_bytes'] / 1e6:.0f} MB WARC ({st['bytes'] / 1e6:.0f} MB gzip), distinct record ids")
    return st


def nonja_ids(sample_dir: str) -> set[str]:
    """Record ids of the sample's non-Japanese responses (labels.tsv ``lang_collected=other``)."""
    ids = set()
    with open(os.path.join(sample_dir, "labels.tsv")) as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if cols[4] == "other":
                ids.add(cols[1])
    return ids


def nonja_input(sample_dir: str, copies: int, work: str) -> list[str]:
    """Only the sample's non-Japanese responses, replicated."""
    ids = nonja_ids(sample_dir)
    # One file per core, each with thousands of records (as Common Crawl's ~40k): with a few
    # records per file the per-file cost of the runner would be measured, not the per-record cost.
    out = os.path.join(work, f"nonja-{copies}x-{CORES}f")
    if not glob.glob(os.path.join(out, "*.warc.gz")):
        replicate.replicate(replicate.sample_files(os.path.join(sample_dir, "*.warc.gz")), out, copies,
                            keep=lambda raw: replicate.record_id(raw) in ids, level=1, out_files=CORES)
    return sorted(glob.glob(os.path.join(out, "*.warc.gz")))


def japanese_docs(sample_dir: str, work: str) -> list[dict]:
    """Extracted texts (resiliparse) of the sample's responses that lid.176 calls Japanese."""
    path = os.path.join(work, "docs-base.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            return [json.loads(line) for line in f]
    from classifiers.langid import LangId
    from transforms.decode import decode_html
    from transforms.extract import extract_resiliparse
    from transforms.read_warc import KEPT, iter_warc

    lid = LangId().load()
    docs = []
    for f in replicate.sample_files(os.path.join(sample_dir, "*.warc.gz")):
        for outcome, r in iter_warc(f):
            if outcome != KEPT:
                continue
            try:
                text = extract_resiliparse(decode_html(r["html"], r.get("http_charset"))[0])
            except Exception:
                continue
            top, p = lid.predict(text)
            if text and top == "ja" and p >= 0.5:
                docs.append({"id": r["id"], "url": r["url"], "crawl_date": r["crawl_date"], "text": text})
    with open(path, "w") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    return docs


def write_docs(docs: list[dict], copies: int, path: str, mutate: float = 0.0) -> int:
    """``copies`` copies of ``docs`` with distinct ids; copies ≥ 1 mutated by ``mutate``."""
    n = 0
    with open(path, "w") as f:
        for k in range(copies):
            for i, d in enumerate(docs):
                text = d["text"] if k == 0 else replicate.mutate_text(d["text"], mutate, seed=1000 * k + i)
                f.write(json.dumps({"id": d["id"] if k == 0 else f"{d['id']}-c{k}", "url": d.get("url"),
                                    "crawl_date": d.get("crawl_date"), "text": text}, ensure_ascii=False) + "\n")
                n += 1
    return n


# ------------------------------------------------------------------------------------ contenders
def contender(name: str, cmd: list[str], items: int, cores: int, timeout_s: float, logs: str,
              out_dir: str | None = None, out_items_key: str | None = None, seconds_key: str | None = None,
              env=None, note: str | None = None) -> dict:
    """Run and measure one contender. ``seconds_key``: use the contender's own timing of its
    work (in-process runs exclude interpreter start-up and input loading); else wall time."""
    log(f"run {name}")
    safe = "".join(ch if ch.isalnum() else "_" for ch in name)
    m = measure.run_measured(cmd, timeout_s, env=env, cwd=ROOT, log_path=os.path.join(logs, f"{safe}.log"))
    c = {"name": name, "items": items, "cores": cores, "cmd": " ".join(cmd), "note": note, **m}
    if not m["ok"]:
        log(f"  {name} FAILED: {m.get('error')}")
        return c
    res = m.get("result") or {}
    c["out_items"] = res.get(out_items_key) if out_items_key else None
    if out_dir:
        c["out_bytes"] = measure.dir_bytes(out_dir)
    if seconds_key and res.get(seconds_key):
        secs = res[seconds_key]
        c["work_s"] = round(secs, 2)
        c["per_cpu_s"] = round(items / (secs * cores), 2)  # in-process, one core busy
        c["per_s_per_core"] = c["per_cpu_s"]
    else:
        c["per_cpu_s"] = round(items / m["cpu_s"], 2) if m["cpu_s"] else None
        c["per_s_per_core"] = round(items / m["wall_s"] / cores, 2)
    log(f"  {name}: {c['per_cpu_s']} /cpu-s, {c['per_s_per_core']} /s/core, wall {m['wall_s']} s, rss {m['peak_rss_mb']} MB")
    return c


def failed(name: str, error: str) -> dict:
    return {"name": name, "ok": False, "error": error}


def ours_pipeline_cmd(glob_: str, out: str, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "bench.ours_pipeline", "--input", glob_, "--output", out,
            f"--direct_num_workers={CORES}", *extra]


def ratio(a: dict, b: dict, key: str) -> float | None:
    if a.get("ok") and b.get("ok") and a.get(key) and b.get(key):
        return round(a[key] / b[key], 2)
    return None


# ------------------------------------------------------------------------------------ main
def run_all(args) -> dict:
    started = time.time()
    stem = args.stem or time.strftime("%Y-%m-%d")
    work = os.path.join(WORK, "run")
    logs = os.path.join(work, "logs")
    shutil.rmtree(os.path.join(work, "out"), ignore_errors=True)
    os.makedirs(logs, exist_ok=True)
    outd = lambda name: os.path.join(work, "out", name)  # noqa: E731
    results = {"date": stem, "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
               "machine": {"cores": os.cpu_count(), "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
                           "loadavg_start": [round(x, 2) for x in os.getloadavg()]},
               "params": vars(args), "workloads": [], "ratios": {}}

    log("preparing input")
    inp = prepare_input(args.sample, args.size_mb, WORK)
    results["input"] = {k: v for k, v in inp.items() if k != "files"}
    n_resp = inp["responses"]
    log(inp["summary"])

    py = {}
    for peer in ("datatrove", "hojichar"):
        if peer in args.skip:
            py[peer] = (None, "skipped by --skip")
            continue
        log(f"ensuring venv {peer}")
        p, err, secs = envs.ensure(peer, log=log)
        py[peer] = (p, err)
        results.setdefault("peer_envs", {})[peer] = {"python": p, "error": err, "install_s": round(secs, 1)}
    dt_env = dict(os.environ, PYTHONPATH="")

    def peer(name):
        return py[name][0]

    # ---- spine (Task A): in-process stage rates, non-Japanese cost
    if "spine" not in args.skip:
        sinp = prepare_input(args.sample, max(args.spine_size_mb, args.size_mb), WORK)
        log(f"spine: stage rates in-process on {sinp['summary']}")
        sp = spine.stage_rates(sorted(glob.glob(sinp["glob"])))
        sp["input"] = sinp["summary"]
        nj_files = nonja_input(args.sample, args.nonja_copies, WORK)
        sp["nonja"] = spine.nonja_cost(nj_files)
        results["spine"] = sp
        log(f"spine: non-ja read+decode+prefilter = {sp['nonja']['ratio_vs_raw']}× raw")
        if "pipeline_nonja" not in args.skip:
            small = nonja_input(args.sample, 1, WORK)
            cs = contender("ours pipeline, non-ja 1×", ours_pipeline_cmd(os.path.join(os.path.dirname(small[0]), "*.warc.gz"), outd("nj1"), ["--rejects", "ids"]),
                           len(small), CORES, args.timeout, logs)
            cl = contender(f"ours pipeline, non-ja {args.nonja_copies}×", ours_pipeline_cmd(os.path.join(os.path.dirname(nj_files[0]), "*.warc.gz"), outd("njN"), ["--rejects", "ids"]),
                           len(nj_files), CORES, args.timeout, logs)
            if cs.get("ok") and cl.get("ok"):
                n_s, n_l = cs["result"]["records_read"], cl["result"]["records_read"]
                marg = (cl["cpu_s"] - cs["cpu_s"]) / max(1, n_l - n_s)
                sp["pipeline_nonja"] = {"records_small": n_s, "records_large": n_l, "cpu_s_small": cs["cpu_s"],
                                        "cpu_s_large": cl["cpu_s"], "startup_s": cs["cpu_s"],
                                        "us_per_record_marginal": round(1e6 * marg, 1),
                                        "ratio_vs_raw": round(1e6 * marg / sp["nonja"]["raw_us_per_record"], 2)}

    # ---- workload 1: WARC → Japanese text
    wl1 = {"name": "1 WARC → Japanese text", "unit": "records", "contenders": []}
    cfg1 = os.path.join(work, "w1-config.json")
    with open(cfg1, "w") as f:
        json.dump({"stages": ["decode", "prefilter", "extract", "langid"]}, f)
    if "w1" not in args.skip:
        wl1["contenders"].append(contender(
            "ours (prefilter + resiliparse + lid.176)", ours_pipeline_cmd(inp["glob"], outd("w1_ours"), ["--config", cfg1, "--rejects", "none"]),
            n_resp, CORES, args.timeout, logs, outd("w1_ours/documents"), "kept"))
        wl1["contenders"].append(contender(
            "ours with trafilatura", ours_pipeline_cmd(inp["glob"], outd("w1_ourst"), ["--config", cfg1, "--rejects", "none", "--extractor", "trafilatura"]),
            n_resp, CORES, args.timeout, logs, outd("w1_ourst/documents"), "kept"))
        if peer("datatrove"):
            wl1["contenders"].append(contender(
                "datatrove WarcReader → Trafilatura → LanguageFilter(ja)",
                [peer("datatrove"), os.path.join(HERE, "peers", "run_datatrove.py"), "warc", "--input-dir", inp["dir"],
                 "--out", outd("w1_dt"), "--workers", str(CORES)],
                n_resp, CORES, args.timeout, logs, outd("w1_dt/docs"), "docs_out", env=dt_env,
                note="Trafilatura timeout 5 s (ours: 5 s)"))
        else:
            wl1["contenders"].append(failed("datatrove", py["datatrove"][1]))
        results["workloads"].append(wl1)

    # ---- workload 2: quality rules on extracted text
    base = japanese_docs(args.sample, WORK)
    if "w2" not in args.skip:
        docs2 = os.path.join(work, "docs-quality.jsonl")
        n2 = write_docs(base, args.quality_copies, docs2)
        wl2 = {"name": "2 Quality rules on extracted text", "unit": "docs", "contenders": []}
        wl2["contenders"].append(contender("ours (v1 quality rules + NG words)", [sys.executable, "-m", "bench.ours_quality", docs2],
                                           n2, 1, args.timeout, logs, None, "kept", "seconds"))
        if peer("hojichar"):
            wl2["contenders"].append(contender("hojichar (length, Japanese, NG words, repetition, sentences)",
                                               [peer("hojichar"), os.path.join(HERE, "peers", "run_hojichar.py"), docs2],
                                               n2, 1, args.timeout, logs, None, "kept", "seconds", env=dt_env))
        else:
            wl2["contenders"].append(failed("hojichar", py["hojichar"][1]))
        if peer("datatrove"):
            wl2["contenders"].append(contender("datatrove GopherRepetitionFilter(ja)",
                                               [peer("datatrove"), os.path.join(HERE, "peers", "run_datatrove.py"), "gopher", "--docs", docs2],
                                               n2, 1, args.timeout, logs, None, "kept", "seconds", env=dt_env,
                                               note="ja word tokeniser = spaCy + SudachiPy"))
        results["workloads"].append(wl2)

    # ---- workload 3: near-dup dedup at scales
    if "w3" not in args.skip:
        wl3 = {"name": "3 Near-dup dedup", "unit": "docs", "contenders": [],
               "params": {"bands": args.bands, "rows": args.rows, "ngram": args.ngram, "mutate": args.mutate}}
        overlap = []
        for s in args.scales:
            docs3 = os.path.join(work, f"docs-dedup-{s}x.jsonl")
            n3 = write_docs(base, s, docs3, mutate=args.mutate)
            common = ["--bands", str(args.bands), "--rows", str(args.rows), "--ngram", str(args.ngram)]
            o = contender(f"ours Dedup (FnApiRunner, 2 workers) {s}×", [sys.executable, "-m", "bench.dedup_runs", "ours", docs3, outd(f"w3_ours_{s}"), *common],
                          n3, CORES, args.timeout, logs, None, "removed")
            d = contender(f"datasketch MinHashLSH {s}×", [sys.executable, "-m", "bench.dedup_runs", "datasketch", docs3, *common],
                          n3, 1, args.timeout, logs, None, "removed", "seconds")
            wl3["contenders"] += [o, d]
            t = None
            if peer("datatrove") and s in args.dt_scales:
                t = contender(f"datatrove MinHash 4 stages {s}×",
                              [peer("datatrove"), os.path.join(HERE, "peers", "run_datatrove.py"), "minhash", "--docs", docs3,
                               "--out", outd(f"w3_dt_{s}"), "--workers", str(CORES), "--buckets", str(args.bands),
                               "--rows", str(args.rows), "--ngram", str(args.ngram)],
                              n3, CORES, args.timeout, logs, None, "removed", env=dt_env,
                              note="word 5-grams (spaCy + SudachiPy ja tokeniser), local executor")
                wl3["contenders"].append(t)
            sets = {k: set(c["result"]["removed_ids"]) for k, c in (("ours", o), ("datasketch", d), ("datatrove", t))
                    if c and c.get("ok")}
            for c in (o, d, t):
                if c and c.get("result"):
                    c["result"].pop("removed_ids", None)
            ov = {"scale": s, "docs": n3, **{k: len(v) for k, v in sets.items()}}
            if "ours" in sets and "datasketch" in sets:
                ov["ours_and_datasketch"] = len(sets["ours"] & sets["datasketch"])
                ov["ours_equals_datasketch"] = sets["ours"] == sets["datasketch"]
            if "ours" in sets and "datatrove" in sets:
                ov["ours_and_datatrove"] = len(sets["ours"] & sets["datatrove"])
            overlap.append(ov)
        if not os.path.exists(os.path.join(ROOT, "transforms", "dedup.py")):
            wl3["note"] = "ours pending: transforms/dedup.py not in this tree"
        results["workloads"].append(wl3)
        results["dedup_overlap"] = overlap

    # ---- workload 4: end to end
    if "w4" not in args.skip:
        wl4 = {"name": "4 End-to-end v1", "unit": "records", "contenders": []}
        wl4["contenders"].append(contender("ours v1 recipe (FnApiRunner, 2 workers)", ours_pipeline_cmd(inp["glob"], outd("w4_ours"), ["--recipe", "v1"]),
                                           n_resp, CORES, args.timeout, logs, outd("w4_ours/documents"), "kept"))
        if peer("datatrove"):
            wl4["contenders"].append(contender(
                "datatrove WarcReader → Trafilatura → LanguageFilter(ja) → GopherRepetition(ja)",
                [peer("datatrove"), os.path.join(HERE, "peers", "run_datatrove.py"), "warc", "--gopher", "--input-dir", inp["dir"],
                 "--out", outd("w4_dt"), "--workers", str(CORES)],
                n_resp, CORES, args.timeout, logs, outd("w4_dt/docs"), "docs_out", env=dt_env))
        results["workloads"].append(wl4)
        if results.get("spine") is not None and wl4["contenders"][0].get("ok"):
            sp = results["spine"]
            pipe = wl4["contenders"][0]
            sp["pipeline"] = {"records_per_cpu_s": pipe["per_cpu_s"], "records_per_s_per_core": pipe["per_s_per_core"],
                              "peak_rss_mb": pipe["peak_rss_mb"]}
            if sp.get("in_process_chain_records_per_s"):
                sp["beam_overhead"] = round(sp["in_process_chain_records_per_s"] / pipe["per_cpu_s"], 2)

    # ---- ratios
    def get(wl_prefix, name_prefix):
        for wl in results["workloads"]:
            if wl["name"].startswith(wl_prefix):
                for c in wl["contenders"]:
                    if c["name"].startswith(name_prefix):
                        return c
        return {}
    R = results["ratios"]

    def add(name, a, b, goal, need):
        rc, rw = ratio(a, b, "per_cpu_s"), ratio(a, b, "per_s_per_core")
        R[name] = {"cpu": rc, "wall": rw, "goal": goal, "met": (rc >= need) if rc is not None else None}
    add("W1 ours ÷ datatrove", get("1", "ours (pre"), get("1", "datatrove"), "(none)", 0)
    add("W1 ours-trafilatura ÷ datatrove", get("1", "ours with"), get("1", "datatrove"), "(same extractor)", 0)
    add("W2 ours ÷ hojichar", get("2", "ours"), get("2", "hojichar"), "≥ 2×", 2)
    add("W2 ours ÷ datatrove Gopher", get("2", "ours"), get("2", "datatrove"), "(none)", 0)
    add("W4 ours ÷ datatrove (end to end)", get("4", "ours"), get("4", "datatrove"), "≥ 3×", 3)
    for s in args.scales:
        if s in args.dt_scales:
            add(f"W3 ours ÷ datatrove at {s}×", get("3", f"ours Dedup (FnApiRunner, 2 workers) {s}×"),
                get("3", f"datatrove MinHash 4 stages {s}×"), "≥ 1× at 1×", 1)
    if results.get("spine", {}).get("nonja"):
        nj = results["spine"]["nonja"]
        R["non-ja read+decode+prefilter ÷ raw iteration"] = {"cpu": nj["ratio_vs_raw"], "goal": "≤ 1.5×", "met": nj["goal_met"]}

    # ---- profile of our slowest stage, cost model
    if results.get("spine"):
        # extract is one C call (resiliparse): cProfile cannot see inside it, so the profile is of
        # the slowest stage written in Python
        st = [s for s in results["spine"]["stages"] if not s["stage"].startswith(("raw", "extract"))]
        slow = max(st, key=lambda s: s["us_per_input_record"] or 0)
        results["profile"] = profile_slowest(slow["stage"], base)
        # paper-scale core-hours: `python -m bench marginal`, then `python -m bench cost`
    results["total_s"] = round(time.time() - started, 1)
    paths = report.write_all(results, RESULTS, stem)
    log(f"wrote {paths} in {results['total_s']} s")
    return results


def profile_slowest(stage: str, docs: list[dict]) -> dict:
    texts = [d["text"] for d in docs]
    if stage.startswith("quality"):
        from transforms.quality import QualityConfig, measure
        cfg = QualityConfig()
        top = spine.profile_stage(lambda t: measure(t, cfg), texts)
    elif stage.startswith("langid"):
        from classifiers.langid import LangId
        lid = LangId().load()
        top = spine.profile_stage(lid.predict, texts)
    else:
        return {"stage": stage, "top": []}
    return {"stage": stage, "docs": len(texts), "top": top}
