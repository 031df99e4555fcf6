"""HostFilter on FnApiRunner (2 workers): per-host aggregation across bundles decides rules 2–3;
every page of a blocked host goes to rejected with the host's reason; blocked/top statistics."""
from __future__ import annotations

import glob
import json
import tempfile

import apache_beam as beam

from tests.conftest import beam_args
from transforms.hosts import R_DATING, R_NG, R_PATTERN, R_UT1, HostFilter, HostsConfig
from transforms.stage import KEPT, REJECTED

CLEAN = "今日は公園を散歩しました。桜がとてもきれいでした。" * 10


def _records():
    recs = []
    # 1500 clean pages + 2 dating pages: 2/1502 > 0.1% → whole host blocked (aggregated over bundles)
    recs += [{"id": f"dat{i}", "host": "blog.example.jp", "text": CLEAN} for i in range(1500)]
    recs += [{"id": f"datx{i}", "host": "blog.example.jp", "text": CLEAN + "ハッピーメールで出会った"} for i in range(2)]
    # 1 dating page among 2000: 0.05% → kept
    recs += [{"id": f"ok{i}", "host": "big.example.jp", "text": CLEAN} for i in range(1999)]
    recs += [{"id": "okx", "host": "big.example.jp", "text": CLEAN + "ハッピーメール"}]
    # NG ratio: one page heavy in NG words, others clean, ratio over the host > 0.005
    recs += [{"id": f"ng{i}", "host": "ng.example.jp", "text": CLEAN} for i in range(3)]
    recs += [{"id": "ngx", "host": "ng.example.jp", "text": CLEAN + "アダルトビデオ" * 10}]
    # whitelisted words never count
    recs += [{"id": "wl", "host": "kids.example.jp", "text": "児童" * 100}]
    recs += [{"id": "wp", "host": "ja.wikipedia.org", "text": CLEAN},
             {"id": "ut1", "host": "007agent-russian-women.net", "text": CLEAN}]
    return recs


def test_host_filter_end_to_end():
    recs = _records()
    with tempfile.TemporaryDirectory() as d:
        with beam.Pipeline(argv=beam_args(2)) as p:
            out = p | beam.Create(recs, reshuffle=True) | HostFilter(HostsConfig())
            out[KEPT] | "k" >> beam.Map(lambda r: r["id"]) | "wk" >> beam.io.WriteToText(f"{d}/kept")
            (out[REJECTED] | "r" >> beam.Map(lambda r: json.dumps([r["id"], r["host"], r["reason"], r["stage"]]))
             | "wr" >> beam.io.WriteToText(f"{d}/rej"))
            out["blocked"] | "b" >> beam.Map(json.dumps) | "wb" >> beam.io.WriteToText(f"{d}/blocked")
            out["top"] | "t" >> beam.Map(json.dumps) | "wt" >> beam.io.WriteToText(f"{d}/top")
        read = lambda name: [x.rstrip("\n") for f in glob.glob(f"{d}/{name}*") for x in open(f)]
        kept = set(read("kept"))
        rej = [json.loads(x) for x in read("rej")]
        blocked = {b["host"]: b for b in map(json.loads, read("blocked"))}
        top = sorted(map(json.loads, read("top")), key=lambda b: b["rank"])
    assert len(kept) + len(rej) == len(recs)
    by_host = {}
    for _id, host, reason, stage in rej:
        assert stage == "hosts"
        by_host.setdefault(host, set()).add(reason)
    assert by_host == {"blog.example.jp": {R_DATING}, "ng.example.jp": {R_NG},
                       "ja.wikipedia.org": {R_PATTERN}, "007agent-russian-women.net": {R_UT1}}
    assert sum(1 for r in rej if r[1] == "blog.example.jp") == 1502  # every page of the host
    assert "okx" in kept and "wl" in kept
    assert blocked["blog.example.jp"]["pages"] == 1502 and blocked["blog.example.jp"]["dating_pages"] == 2
    assert blocked["007agent-russian-women.net"]["detail"] == "dating"
    assert top[0]["host"] == "blog.example.jp" and top[0]["rank"] == 1
