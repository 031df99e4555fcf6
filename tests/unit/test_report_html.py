"""report.html: blocked hosts shown once, long JSON lines clipped and wrapped, and histograms (inline
SVG) of the kept documents' scores and rule values read from a bounded sample of the Parquet."""
import json
import math
import xml.etree.ElementTree as ET

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline import report, report_plots


def _documents(out, files=2, rows=100):
    (out / "documents").mkdir(parents=True)
    for f in range(files):
        n = range(rows)
        pq.write_table(pa.table({
            "id": [f"{f}-{i}" for i in n],
            "text": ["本文" * 10 for _ in n],
            "text_chars": pa.array([20 for _ in n], pa.int64()),
            "lang_score": [0.9 + i / 1000 for i in n],
            "wiki_score": [i / rows for i in n],
            "edu_score": [None if i % 10 == 0 else (i % 5) / 5 for i in n],
            "q_hiragana_frac": [0.2 + (i % 7) / 20 for i in n],
            "q_dup_line_frac": [0.0 for _ in n],
        }), out / "documents" / f"part-{f:05d}-of-{files:05d}.parquet")


def test_distributions_cover_scores_and_rule_values(tmp_path):
    _documents(tmp_path)
    d = report_plots.distributions(str(tmp_path))
    assert (d["documents"], d["sampled"]) == (200, 200)
    cols = d["columns"]
    assert list(cols) == ["edu_score", "lang_score", "wiki_score", "q_dup_line_frac", "q_hiragana_frac"]
    assert "text_chars" not in cols and "id" not in cols
    assert cols["edu_score"]["n"] == 180 and cols["edu_score"]["missing"] == 20
    assert sum(cols["wiki_score"]["counts"]) == 200 and len(cols["wiki_score"]["counts"]) == report_plots.BINS
    assert cols["wiki_score"]["min"] == 0.0 and cols["wiki_score"]["max"] == pytest.approx(0.99)
    assert cols["q_dup_line_frac"]["counts"] == [200]  # one value: one bin


def test_the_sample_is_bounded_in_rows_and_files(tmp_path):
    _documents(tmp_path, files=4, rows=100)
    d = report_plots.distributions(str(tmp_path), max_rows=20, max_files=2)
    assert d["documents"] == 400 and d["sampled"] == 20
    assert all(h["n"] + h["missing"] == 20 for h in d["columns"].values())
    assert report_plots.spread(list(range(10)), 3) == [0, 4, 9]


def test_histogram_ignores_missing_and_non_finite():
    h = report_plots.histogram([1.0, None, float("nan"), 3.0, float("inf")], bins=2)
    assert h["n"] == 2 and h["missing"] == 3 and h["counts"] == [1, 1]
    assert report_plots.histogram([None, math.nan]) is None


def _report(**extra):
    return {"records_read": 10, "kept": 4, "kept_text_chars": 400, "non_response_records": 0,
            "invariant_ok": True, "invariant_problems": [], "recipe": "v1", "errors": {}, "samples": [],
            "funnel": [{"stage": "read", "pages_after": 10, "dropped": 0, "errors": 0, "text_chars_after": 900,
                        "by_reason": {}},
                       {"stage": "hosts", "pages_after": 4, "dropped": 6, "errors": 0, "text_chars_after": 400,
                        "by_reason": {"host_ng_ratio_v1": 6}}], **extra}


def test_blocked_hosts_are_listed_once_and_long_lines_are_clipped(tmp_path):
    stats = tmp_path / "_stats"
    stats.mkdir()
    blocked = [{"host": f"h{i}.jp", "reason": "host_ng_ratio_v1" if i % 2 else "host_ut1_v1",
                "detail": None, "pages": i + 1} for i in range(250)]
    (stats / "hosts_blocked.jsonl").write_text("".join(json.dumps(b) + "\n" for b in blocked))
    top = sorted(blocked, key=lambda b: -b["pages"])[:3]
    (stats / "hosts_top.jsonl").write_text("".join(json.dumps(dict(b, rank=i + 1)) + "\n" for i, b in enumerate(top)))
    (stats / "topk_threshold.jsonl").write_text(json.dumps({"note": "x" * 5000}) + "\n")
    s = report.stage_stats(str(tmp_path))
    # counted over all 250 rows, though the stored list is cut at MAX_STAT_ROWS
    assert len(s["hosts_blocked"]) == report.MAX_STAT_ROWS
    assert s["hosts_blocked_by_reason"] == [{"reason": "host_ng_ratio_v1", "hosts": 125, "pages": 125 * 126},
                                            {"reason": "host_ut1_v1", "hosts": 125, "pages": 125 * 125}]
    page = report.render_html(_report(stage_stats=s))
    assert "250 hosts blocked" in page
    assert page.count("h249.jp") == 1 and page.count("h3.jp") == 0  # top hosts once; the rest not dumped
    assert "<h3>hosts_top</h3>" not in page and "<h3>hosts_blocked</h3>" not in page
    assert page.index("h249.jp") < page.index("h248.jp") < page.index("h247.jp")  # by rank
    assert "x" * report.MAX_LINE not in page and "x" * 200 + "…" in page  # clipped (report.json keeps it)
    assert "white-space:pre-wrap" in page
    assert page.count("<tr>") == 3  # the funnel's rows (and header) only: other tables are classed


def test_report_draws_each_distribution_as_inline_svg(tmp_path):
    _documents(tmp_path)
    page = report.render_html(_report(stage_stats={}, distributions=report_plots.distributions(str(tmp_path))))
    assert "Distributions of kept documents" in page and "200 sampled of 200" in page
    svgs = [page[i:page.index("</svg>", i) + 6] for i in range(len(page)) if page.startswith("<svg class=\"hist\"", i)]
    assert len(svgs) == 5
    for svg in svgs:
        root = ET.fromstring(svg)  # well-formed
        assert root.find("rect") is not None
    assert page.index("wiki_score") < page.index("q_hiragana_frac")  # scores first, then rules


def test_a_failed_sample_is_reported_not_raised():
    page = report.render_html(_report(stage_stats={}, distributions={"error": "OSError: gone"}))
    assert "not available: OSError: gone" in page
