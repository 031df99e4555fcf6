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


def test_cost_model_arithmetic():
    m = cost_model.CostModel(us_per_page={k: 1000.0 for k in cost_model.DEFAULT_US}, beam_overhead=1.0)
    r = m.estimate()
    pages = m.stage_pages()
    assert pages["read_decode_prefilter"] == 63.35e9
    assert pages["extract"] == pytest.approx(63.35e9 * 0.05)
    assert pages["quality"] == 2.69e9 and pages["dedup"] == 646e6 and pages["normalize"] == 186e6
    expected = sum(pages.values()) * 1000 / 3.6e9
    assert r["core_hours"] == pytest.approx(expected)
    by = {row["stage"]: row for row in r["rows"]}
    assert by["read_decode_prefilter"]["core_hours"] == pytest.approx(63.35e9 * 1e-3 / 3600)
    snap = m.estimate(63.35e9 / 21)
    assert snap["core_hours"] == pytest.approx(r["core_hours"] / 21)
    m2 = cost_model.CostModel(us_per_page=dict(m.us_per_page), beam_overhead=2.0)
    assert m2.estimate()["core_hours"] == pytest.approx(2 * r["core_hours"])
    d = cost_model.dollars(1000.0)
    per = cost_model.PRICES["vcpu_hour"] + cost_model.PRICES["gb_per_vcpu"] * cost_model.PRICES["gb_hour"]
    assert d["low_usd"] == pytest.approx(1000 * per * 0.6) and d["high_usd"] == pytest.approx(2000 * per)


def test_cost_model_from_results():
    res = {"spine": {"stages": [{"stage": "langid (lid.176)", "us_per_record": 123.0},
                                {"stage": "extract (resiliparse, time-limited child as in the DAG)", "us_per_record": 77.0}],
                     "nonja": {"read_decode_prefilter_us_per_record": 400.0}, "beam_overhead": 1.5},
           "workloads": [{"name": "3 Near-dup dedup", "contenders": [
               {"name": "ours Dedup 1×", "ok": True, "per_cpu_s": 10.0},
               {"name": "ours Dedup 8×", "ok": True, "per_cpu_s": 50.0}]}]}
    m = cost_model.from_results(res)
    assert m.us_per_page["langid"] == 123.0 and m.us_per_page["extract"] == 77.0
    assert m.us_per_page["read_decode_prefilter"] == 400.0 and m.beam_overhead == 1.5
    assert m.us_per_page["dedup"] == pytest.approx(1e6 / 50.0)
    text = cost_model.render(cost_model.report(m))
    assert "core-hours" in text and "63.35 B" in text


def test_cost_model_median_of_runs_and_dedup_scale():
    def run(lid, nonja):
        return {"spine": {"stages": [{"stage": "langid (lid.176)", "us_per_record": lid}],
                          "nonja": {"read_decode_prefilter_us_per_record": nonja}}}
    med = cost_model.median_results([run(300.0, 400.0), run(900.0, 350.0), run(360.0, 380.0)])
    assert med["median_of_runs"] == 3
    scale = [{"docs": 25000, "workers": 2, "cpu_s_runner": 20.0, "cpu_s_workers": 40.0},
             {"docs": 200000, "workers": 2, "cpu_s_runner": 150.0, "cpu_s_workers": 300.0}]
    m = cost_model.from_results(med, dedup_scale=scale)
    assert m.us_per_page["langid"] == 360.0 and m.us_per_page["read_decode_prefilter"] == 380.0
    assert m.us_per_page["dedup"] == pytest.approx(1e6 * 450.0 / 200000)  # the largest scale
    assert "200,000 documents" in cost_model.render(cost_model.report(m))


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
