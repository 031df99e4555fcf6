"""Bench harness: replication keeps records valid with distinct ids, cost-model arithmetic, the
results writers. Fast; installs no peers and reads only tests/data."""
from __future__ import annotations

import glob
import gzip
import json
import os

import pytest

from bench import cost_model, replicate, report

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE = sorted(glob.glob(os.path.join(ROOT, "tests", "data", "warc", "sample-0000[01].warc.gz")))


def test_replication_keeps_records_valid_and_ids_distinct(tmp_path):
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from transforms.read_warc import iter_warc

    st = replicate.replicate(SAMPLE, str(tmp_path), 3, level=1)
    assert len(st["files"]) == 3 * len(SAMPLE)
    ids, n_resp, concurrent = [], 0, {}
    for path in st["files"]:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, parse_http=True, verify_digests=False):
                rid = rec.headers.get("WARC-Record-ID")
                ids.append(rid)
                if rec.record_type == WarcRecordType.response:
                    n_resp += 1
                    body = rec.reader.read()
                    assert len(body) > 0
                if rec.headers.get("WARC-Concurrent-To"):
                    concurrent[rid] = rec.headers.get("WARC-Concurrent-To")
    assert len(ids) == len(set(ids)) == st["records"]
    assert n_resp == st["responses"]
    # request/response pairs still point at each other inside the same copy
    assert all(v in set(ids) for v in concurrent.values())
    # our own reader reads every copy with distinct document ids and no errors
    doc_ids, errors = set(), 0
    for path in st["files"]:
        for outcome, payload in iter_warc(path):
            if outcome == "errors":
                errors += 1
            elif outcome != "skipped":
                doc_ids.add(payload["id"])
    assert errors == 0 and len(doc_ids) == n_resp


def test_replicated_bodies_are_byte_identical_and_copy0_keeps_ids(tmp_path):
    st = replicate.replicate(SAMPLE[:1], str(tmp_path), 2, level=1)
    orig = list(replicate.gzip_members(open(SAMPLE[0], "rb").read()))
    c0 = list(replicate.gzip_members(open(st["files"][0], "rb").read()))
    c1 = list(replicate.gzip_members(open(st["files"][1], "rb").read()))
    assert c0 == orig
    for a, b in zip(orig, c1):
        assert replicate.split_record(a)[1] == replicate.split_record(b)[1]
        assert replicate.record_id(a) != replicate.record_id(b)
    # each output file is a valid multi-member gzip
    assert gzip.decompress(open(st["files"][1], "rb").read()).startswith(b"WARC/")


def test_replicate_filter_and_copies_for(tmp_path):
    first = replicate.record_id(next(m for m in replicate.gzip_members(open(SAMPLE[0], "rb").read())
                                     if replicate.header(replicate.split_record(m)[0], b"WARC-Type") == b"response"))
    st = replicate.replicate(SAMPLE[:1], str(tmp_path), 2, keep=lambda raw: replicate.record_id(raw) == first)
    assert st["responses"] == 2
    size = replicate.uncompressed_size(SAMPLE)
    assert replicate.copies_for(SAMPLE, size / 1e6 * 2.5) == 3


def test_mutate_text_edits_about_frac():
    text = "日本語の文章です。" * 200
    m = replicate.mutate_text(text, 0.02, seed=1)
    diff = sum(a != b for a, b in zip(text, m))
    assert len(m) == len(text) and 0 < diff <= 0.02 * len(text) + 1
    assert replicate.mutate_text(text, 0.02, seed=1) == m
    assert replicate.mutate_text(text, 0.0, seed=1) == text


def _marginal_results(nonja_us=300.0, ja_us=4000.0, chain_us=2000.0):
    return {"date": "t", "fits": {"nonja_2w": {"ok": True, "marginal_us_per_response": nonja_us, "fixed_cpu_s": 12.0},
                                  "ja_2w": {"ok": True, "marginal_us_per_response": ja_us, "fixed_cpu_s": 14.0}},
            "inputs": {"nonja-10": {"kind": "nonja", "responses": 10, "uncompressed_bytes": 400_000},
                       "nonja-40": {"kind": "nonja", "responses": 40, "uncompressed_bytes": 1_600_000}},
            "floors": {"nonja": {"us_per_response": 100.0}},
            "in_process": {"ja": {"us_per_response": chain_us, "stages": [
                {"stage": "prefilter_v1", "us_per_entering": 50.0}, {"stage": "extract_v1", "us_per_entering": 1000.0},
                {"stage": "langid_v1", "us_per_entering": 200.0}, {"stage": "quality_v1", "us_per_entering": 800.0},
                {"stage": "normalize", "us_per_entering": 100.0}]}}}


DEDUP_SCALE = [{"docs": 25000, "workers": 2, "cpu_s_runner": 20.0, "cpu_s_workers": 40.0},
               {"docs": 200000, "workers": 2, "cpu_s_runner": 150.0, "cpu_s_workers": 300.0}]


def test_cost_model_arithmetic_from_measured_figures():
    f = cost_model.figures(_marginal_results(), None, DEDUP_SCALE)
    assert f["beam_ratio"] == pytest.approx(2.0)  # 4000 µs through the DAG ÷ 2000 µs in-process
    assert f["fastwarc_mb_per_s"] == pytest.approx(400.0)  # 40 KB per page in 100 µs
    assert f["dedup_us"] == pytest.approx(1e6 * 450.0 / 200000)  # the largest scale, runner + workers
    assert set(f["rule_us"]) == {"extract", "langid", "quality", "normalize"}  # prefilter is in the front row
    e = cost_model.estimate(f, 63.35e9)
    by = {row["stage"]: row for row in e["rows"]}
    front = by["read + prefilter, whole DAG (non-ja marginal, 2 workers)"]
    assert front["core_hours"] == pytest.approx(63.35e9 * 300e-6 / 3600)
    inflate = by["read: inflate to CC page size"]
    assert inflate["us_per_page"] == pytest.approx((cost_model.CC_PAGE_BYTES - 40_000) / 400.0)
    assert by["extract × Beam ratio"]["core_hours"] == pytest.approx(63.35e9 * 0.05 * 1000e-6 * 2.0 / 3600)
    assert by["quality × Beam ratio"]["pages"] == 2.69e9 and by["normalize × Beam ratio"]["pages"] == 186e6
    assert by["dedup (through Beam)"]["pages"] == 646e6
    fixed = by["fixed start-up (one job per snapshot)"]
    assert fixed["core_hours"] == pytest.approx(21 * 14.0 / 3600)
    assert e["core_hours"] == pytest.approx(sum(r["core_hours"] for r in e["rows"]))
    snap = cost_model.estimate(f, 63.35e9 / 21)
    assert snap["core_hours"] == pytest.approx((e["core_hours"] - fixed["core_hours"]) / 21 + 14.0 / 3600)
    d = cost_model.dollars(1000.0)
    per = cost_model.PRICES["vcpu_hour"] + cost_model.PRICES["gb_per_vcpu"] * cost_model.PRICES["gb_hour"]
    assert d["low_usd"] == pytest.approx(1000 * per * 0.6) and d["high_usd"] == pytest.approx(2000 * per)


def test_cost_model_index_design_carries_recall_and_has_no_defaults():
    index = {"cpu": {"index_assisted": {"scan_select_us_per_row": 2.0, "ranged_read_us_per_selected_record": 120.0}},
             "selection": {"cld2_selection": {"recall": 0.9}}}
    f = cost_model.figures(_marginal_results(), index, DEDUP_SCALE)
    e = cost_model.estimate(f, 63.35e9, "index")
    by = {row["stage"]: row for row in e["rows"]}
    assert by["ranged read + prefilter, whole DAG"]["us_per_page"] == pytest.approx(120.0 + 300.0 - 100.0)
    assert by["quality × Beam ratio"]["pages"] == pytest.approx(2.69e9 * 0.9)  # pages the index misses
    text = cost_model.render(cost_model.report(f))
    assert "index-assisted" in text and "Beam ratio 2.00" in text and "Sensitivity" in text
    broken = _marginal_results()
    del broken["fits"]["ja_2w"]
    with pytest.raises(cost_model.MissingFigure, match="fits.ja_2w"):
        cost_model.figures(broken, None, DEDUP_SCALE)
    with pytest.raises(cost_model.MissingFigure, match="dedup"):
        cost_model.figures(_marginal_results(), None, None)


def test_marginal_fit_separates_fixed_and_per_record_cost():
    from bench import marginal

    small = {"ok": True, "responses": 1000, "cpu_s": 12.0}
    large = {"ok": True, "responses": 5000, "cpu_s": 20.0}
    fit = marginal.fit(small, large, {"ok": True, "cpu_s": 9.5})
    assert fit["marginal_us_per_response"] == pytest.approx(2000.0) and fit["fixed_cpu_s"] == pytest.approx(10.0)
    assert fit["empty_run_cpu_s"] == 9.5
    assert marginal.fit(large, small, None) == {"ok": False}


def test_marginal_floors_and_chain_use_the_runs_estimator():
    """The raw floor and the in-process chain are measured in every pass and summarised as the
    DAG's runs are (medians over the passes; the chain fitted over two sizes, so its start-up and
    model loads cancel instead of counting as per-record cost)."""
    from bench import marginal

    floor_runs = [{"kind": "nonja", "responses": 40, "us_per_response": us} for us in (130.0, 150.0, 135.0)]
    assert marginal.floors(floor_runs)["nonja"]["us_per_response"] == 135.0
    chain_runs = []
    for p, (small, large) in enumerate(((5.0, 8.0), (5.5, 9.0), (4.0, 7.5))):
        for n, cpu in ((1000, small), (4000, large)):
            chain_runs.append({"ok": True, "kind": "ja", "workers": 1, "responses": n, "cpu_s": cpu,
                               "wall_s": cpu, "pass": p + 1, "stages": [{"stage": "extract", "pass": p + 1}]})
    ip = marginal.in_process(chain_runs)
    # medians: 5.0 s at 1,000 and 8.0 s at 4,000 responses → 1,000 µs per response, 4 s fixed
    assert ip["ja"]["us_per_response"] == pytest.approx(1000.0) and ip["ja"]["fixed_cpu_s"] == pytest.approx(4.0)
    assert ip["ja"]["stages"] == [{"stage": "extract", "pass": 3}]  # the large input's last pass
    assert "nonja" not in ip and "ja_2_procs" not in ip  # not run: no figure rather than a guess

def _results():
    return {"date": "2000-01-01", "machine": {"cores": 2, "mem_gb": 24, "loadavg_start": [1.0]},
            "input": {"summary": "test"},
            "workloads": [{"name": "1 W", "unit": "records", "contenders": [
                {"name": "ours", "ok": True, "items": 100, "per_cpu_s": 50.0, "per_s_per_core": 40.0,
                 "wall_s": 1.0, "cpu_s": 2.0, "peak_rss_mb": 10.0, "out_items": 5, "out_bytes": 1000},
                {"name": "peer", "ok": False, "error": "pip install failed | no network"}]}],
            "ratios": {"W1 ours ÷ peer": {"cpu": None, "wall": None, "goal": "≥ 3×", "met": None}},
            "dedup_overlap": [{"scale": 1, "docs": 10, "ours": 2, "datasketch": 2, "ours_and_datasketch": 2,
                               "ours_equals_datasketch": True}]}


def test_results_writer(tmp_path):
    paths = report.write_all(_results(), str(tmp_path), "t")
    data = json.load(open(paths["json"]))
    assert data["workloads"][0]["contenders"][1]["error"].startswith("pip install failed")
    md = open(paths["md"]).read()
    assert "| 1 W | ours | 100 | 50.0 | 40.0 |" in md
    assert "**failed**: pip install failed / no network" in md  # a failed contender is a row, not a crash
    assert "ours=datasketch" in md and "| 1× | 10 |" in md
    if "png" in paths:
        assert open(paths["png"], "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_marginal_per_pass_ratio_uses_each_pass_own_floor():
    from bench import marginal

    res = {"floor_runs": [{"pass": 1, "kind": "nonja", "us_per_response": 100.0},
                          {"pass": 2, "kind": "nonja", "us_per_response": 200.0}],
           "runs": [{"pass": p, "kind": "nonja", "workers": 2, "ok": True, "responses": n, "cpu_s": cpu}
                    for p, n, cpu in ((1, 1000, 1.0), (1, 3000, 1.3), (2, 1000, 1.0), (2, 3000, 1.6))]}
    # pass 1: 150 µs ÷ 100; pass 2: 300 µs ÷ 200
    assert marginal.per_pass_ratios(res, "nonja", 2) == [1.5, 1.5]
    assert marginal.per_pass_ratios(res, "nonja", 1) == []
