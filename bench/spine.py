"""Spine benchmark: records/s per core of each stage alone, side by side with raw
fastwarc iteration (the floor) and the whole pipeline on FnApiRunner, plus the per-record cost of
non-Japanese records through read + decode + prefilter.

Stages are the pure rules called in-process on one core, each fed exactly the records that reach
it in the v1 DAG (so ``share_of_input`` is the stage's cost per *input* WARC record). ``python -m
bench spine`` runs it on the sample replicated to ≥ 100 MB; ``python -m bench all`` includes it.
"""
from __future__ import annotations

import gc
import os
import resource
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def raw_iterate(files: list[str]) -> int:
    """The floor: fastwarc parses every record and reads every response body; nothing else."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    n = 0
    for path in files:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, parse_http=True, record_types=WarcRecordType.response):
                rec.reader.read()
                n += 1
    return n


def _timed(fn, items):
    """Apply ``fn`` to every item; ``(outputs, seconds)``. GC is paused as in a steady worker."""
    gc.collect()
    t = time.perf_counter()
    out = [fn(x) for x in items]
    return out, time.perf_counter() - t


def _best_of(fn, repeats: int = 2) -> tuple[object, float]:
    best = None
    for _ in range(repeats):
        t = time.perf_counter()
        r = fn()
        dt = time.perf_counter() - t
        if best is None or dt < best[1]:
            best = (r, dt)
    return best


def stage_rates(files: list[str], extract_child: bool = True) -> dict:
    """Each v1 stage alone, in-process, one core. Returns ``{"stages": [...], "responses": n}``."""
    from transforms.decode import DecodeConfig, decode_html
    from transforms.extract import TimeLimitedExtractor, extract_resiliparse
    from transforms.harmful import HarmfulConfig, automaton, ng_fraction
    from transforms.normalize import NormalizeRule
    from transforms.prefilter import PrefilterConfig, PrefilterRule
    from transforms.quality import QualityConfig, decide, measure
    from transforms.read_warc import KEPT, SKIPPED, iter_warc
    from classifiers.langid import LangId

    rows = []
    n_raw, t_raw = _best_of(lambda: raw_iterate(files))
    rows.append(_row("raw fastwarc iteration (floor)", n_raw, t_raw, n_raw))

    def read_all():
        kept, n = [], 0
        for f in files:
            for outcome, payload in iter_warc(f):
                if outcome == SKIPPED:
                    continue
                n += 1
                if outcome == KEPT:
                    kept.append(payload)
        return kept, n
    (html_recs, n_read), t_read = _best_of(read_all)
    rows.append(_row("read (iter_warc: parse + classify)", n_read, t_read, n_raw))

    dcfg = DecodeConfig()

    def dec(r):
        try:
            return decode_html(r["html"], r.get("http_charset"), dcfg)[0]
        except ValueError:
            return None
    htmls, t = _timed(dec, html_recs)
    rows.append(_row("decode", len(html_recs), t, n_raw))
    htmls = [h for h in htmls if h is not None]

    lid = LangId().load()
    swallow = PrefilterRule(PrefilterConfig(mode="swallow"), lid=lid)  # on decoded text: TextHead
    passed, t = _timed(lambda h: swallow({"html": h})[1] is None, htmls)
    rows.append(_row("prefilter (App. A)", len(htmls), t, n_raw))
    ja_html = [h for h, ok in zip(htmls, passed) if ok]

    texts, t = _timed(extract_resiliparse, ja_html)
    rows.append(_row("extract (resiliparse, in-process)", len(ja_html), t, n_raw))
    if extract_child:
        ex = TimeLimitedExtractor("resiliparse", 5.0)
        ex.extract("<html><body>warm up</body></html>")
        _, t = _timed(ex.extract, ja_html)
        ex.close()
        rows.append(_row("extract (resiliparse, time-limited child as in the DAG)", len(ja_html), t, n_raw))
    texts = [x for x in texts if x]

    from transforms.langid import LangIdConfig, LangIdRule

    lid_rule = LangIdRule(LangIdConfig())  # as the DAG runs it (the first max_chars characters)
    lid_rule.setup()
    preds, t = _timed(lambda x: lid_rule({"text": x})[1], texts)
    rows.append(_row("langid (lid.176)", len(texts), t, n_raw))
    ja_texts = [x for x, reason in zip(texts, preds) if reason is None]

    qcfg = QualityConfig()
    measured, t = _timed(lambda x: (x, measure(x, qcfg)), ja_texts)
    decided, t2 = _timed(lambda xm: decide(xm[1], qcfg), measured)
    rows.append(_row("quality (v1 measure + decide)", len(ja_texts), t + t2, n_raw))
    good = [(x, m) for (x, m), reason in zip(measured, decided) if reason is None]

    auto = automaton(HarmfulConfig().ngwords)
    _, t = _timed(lambda xm: ng_fraction(xm[0], auto, int(xm[1].get("ja_chars", 0)) or None), good)
    rows.append(_row("harmful (NG words)", len(good), t, n_raw))

    norm = NormalizeRule()
    _, t = _timed(lambda xm: norm({"text": xm[0]}), good)
    rows.append(_row("normalize (punctuation + footer)", len(good), t, n_raw))

    chain = sum(r["seconds"] for r in rows[1:] if "child" not in r["stage"])
    return {"responses": n_raw, "stages": rows,
            "in_process_chain_s": round(chain, 3),
            "in_process_chain_records_per_s": round(n_raw / chain, 1) if chain else None,
            "kept_after": {"read": len(html_recs), "decode": len(htmls), "prefilter": len(ja_html),
                           "extract": len(texts), "langid": len(ja_texts), "quality": len(good)},
            "peak_rss_mb_in_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def _row(stage: str, n: int, seconds: float, n_input: int) -> dict:
    return {"stage": stage, "records": n, "seconds": round(seconds, 4),
            "records_per_s": round(n / seconds, 1) if seconds else None,
            "us_per_record": round(1e6 * seconds / n, 1) if n else None,
            # cost of this stage spread over every input WARC record (what it adds to the floor)
            "us_per_input_record": round(1e6 * seconds / n_input, 1) if n_input else None}


def prefilter_chain(files: list[str], prefilter, decode) -> tuple[int, int]:
    """The DAG's order on each record: read → prefilter (raw bytes) → decode of the pages it
    keeps. Returns (response records, pages passed)."""
    from transforms.read_warc import KEPT, SKIPPED, iter_warc
    from transforms.records import RecordError

    n = passed = 0
    for f in files:
        for outcome, r in iter_warc(f):
            if outcome == SKIPPED:
                continue
            n += 1
            if outcome != KEPT:
                continue
            try:
                r, reason = prefilter(r)
                if reason is None:
                    decode(r)
                    passed += 1
            except RecordError:
                continue
    return n, passed


def nonja_cost(files: list[str]) -> dict:
    """Per-record cost of non-Japanese records: raw iteration vs the DAG's order, read →
    prefilter (v1: Swallow's rule, on raw bytes) → decode (only pages the prefilter keeps)."""
    from transforms.decode import DecodeRule
    from transforms.prefilter import PrefilterConfig, PrefilterRule
    from transforms.read_warc import SKIPPED, iter_warc

    prefilter = PrefilterRule(PrefilterConfig(mode="swallow"))
    prefilter.setup()
    decode = DecodeRule()
    n_raw, t_raw = _best_of(lambda: raw_iterate(files), 3)

    def chain():
        return prefilter_chain(files, prefilter, decode)
    (n, passed), t_chain = _best_of(chain, 3)

    def read_only():
        return sum(1 for f in files for o, _ in iter_warc(f) if o != SKIPPED)
    _, t_read = _best_of(read_only, 3)
    return {"records": n_raw, "prefilter_passed": passed,
            "raw_us_per_record": round(1e6 * t_raw / n_raw, 1),
            "read_us_per_record": round(1e6 * t_read / n, 1),
            "read_decode_prefilter_us_per_record": round(1e6 * t_chain / n, 1),
            "ratio_vs_raw": round(t_chain / t_raw, 2), "goal_ratio": 1.5,
            "goal_met": t_chain / t_raw <= 1.5}


def pipeline_cmd(files_glob: str, out: str, workers: int, extra: list[str] = ()) -> list[str]:
    return [sys.executable, "-m", "pipeline", "run", "--input", files_glob, "--output", out, "--recipe", "v1",
            "--rejects", "ids", f"--direct_num_workers={workers}", *extra]


def profile_stage(fn, items, top: int = 12) -> list[dict]:
    """cProfile of ``fn`` over ``items``: the top functions by cumulative time."""
    import cProfile
    import pstats

    pr = cProfile.Profile()
    pr.enable()
    for x in items:
        fn(x)
    pr.disable()
    st = pstats.Stats(pr)
    total = sum(v[2] for v in st.stats.values()) or 1.0
    rows = []
    for (fname, line, func), (cc, nc, tt, ct, _) in sorted(st.stats.items(), key=lambda kv: -kv[1][3])[:top]:
        rows.append({"function": f"{os.path.basename(fname)}:{line}({func})", "calls": nc,
                     "tottime_s": round(tt, 3), "cumtime_s": round(ct, 3)})
    return rows
