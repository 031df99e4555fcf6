"""The run report: ``report.json`` and ``report.html``, with the stage funnel of Swallow's Fig. 1.

Built from the outcome counts the pipeline itself wrote (``_stats/``), so it is the same on every
runner, and checked three ways:
1. ``records_read == kept + Σ dropped + Σ errors`` (every record leaves the DAG exactly once);
2. the Parquet row counts of ``documents/``, ``errors/`` (and ``rejects/`` when stored) equal
   the counted outcomes (nothing written was lost, nothing counted was not written);
3. where the runner answers metrics queries, each stage's Metrics counters agree.
The funnel has the shape of the paper's Fig. 1: pages (and bytes/characters) after each stage.
"""
from __future__ import annotations

import datetime as _dt
import html
import json
from collections import defaultdict

from apache_beam.io.filesystems import FileSystems

from pipeline import report_plots


class InvariantError(AssertionError):
    pass


def _read_lines(path: str) -> list[str]:
    if not FileSystems.exists(path):
        return []
    with FileSystems.open(path) as f:
        return [ln for ln in f.read().decode("utf-8").splitlines() if ln.strip()]


def parquet_rows(prefix: str) -> int | None:
    """Total rows of ``prefix*.parquet`` from the footers only; None if nothing matches."""
    import pyarrow.parquet as pq

    match = FileSystems.match([f"{prefix}*.parquet"])[0].metadata_list
    if not match:
        return None
    total = 0
    for m in match:
        with FileSystems.open(m.path) as f:
            total += pq.ParquetFile(f).metadata.num_rows
    return total


def summarise(outcomes: list[dict], stage_order: list[str]) -> dict:
    kept = sum(o["records"] for o in outcomes if o["kind"] == "kept")
    kept_chars = sum(o["text_chars"] for o in outcomes if o["kind"] == "kept")
    kept_bytes = sum(o["html_bytes"] for o in outcomes if o["kind"] == "kept")
    dropped: dict[str, int] = defaultdict(int)
    errors: dict[str, int] = defaultdict(int)
    exits: dict[str, list[dict]] = defaultdict(list)
    skipped, read_by_reader, notes = 0, None, defaultdict(int)
    selected, not_selected = None, defaultdict(int)  # index-assisted read only
    for o in outcomes:
        if o["kind"] == "rejected":
            dropped[o["reason"]] += o["records"]
            exits[o["stage"]].append(o)
        elif o["kind"] == "error":
            errors[o["reason"]] += o["records"]
            exits[o["stage"]].append(o)
        elif o["kind"] == "skipped":
            skipped += o["records"]
        elif o["kind"] == "read":  # counted by the reader itself, apart from the outcomes
            read_by_reader = (read_by_reader or 0) + o["records"]
        elif o["kind"] == "note":
            notes[o["reason"]] += o["records"]
        elif o["kind"] == "selected":
            selected = (selected or 0) + o["records"]
        elif o["kind"] == "not_selected":
            not_selected[o["reason"]] += o["records"]
    order = list(stage_order) + sorted(s for s in exits if s not in stage_order)
    # The reader's own count (index-assisted: every selected row is read as exactly one record);
    # never the sum of the outcomes, or the check below could not fail.
    records_read = read_by_reader if read_by_reader is not None else selected
    if records_read is None:  # outcomes of a run older than the reader's count
        records_read = kept + sum(dropped.values()) + sum(errors.values())

    funnel = []
    pages = records_read
    for i, stage in enumerate(order):
        gone = exits.get(stage, [])
        n_drop = sum(o["records"] for o in gone if o["kind"] == "rejected")
        n_err = sum(o["records"] for o in gone if o["kind"] == "error")
        later = [o for s in order[i + 1:] for o in exits.get(s, [])]
        pages -= n_drop + n_err
        funnel.append({
            "stage": stage,
            "dropped": n_drop,
            "errors": n_err,
            "pages_after": pages,
            "html_bytes_after": kept_bytes + sum(o["html_bytes"] for o in later),
            "text_chars_after": kept_chars + sum(o["text_chars"] for o in later),
            "by_reason": dict(sorted(((o["reason"], o["records"]) for o in gone), key=lambda kv: -kv[1])),
        })
    index = None
    if selected is not None or not_selected:
        # Index rows never read are counted apart (like non-response records): the invariant is
        # over the records read, and every selected row is read as exactly one record.
        index = {"rows": (selected or 0) + sum(not_selected.values()), "selected": selected or 0,
                 "not_selected": dict(sorted(not_selected.items()))}
        if funnel and funnel[0]["stage"] == "read":
            funnel[0]["index_rows"], funnel[0]["index_selected"] = index["rows"], index["selected"]
    return {
        "records_read": records_read,
        "kept": kept,
        "kept_text_chars": kept_chars,
        "dropped": dict(sorted(dropped.items())),
        "errors": dict(sorted(errors.items())),
        "non_response_records": skipped,
        "crawl_date_invalid": notes.get("crawl_date_invalid", 0),
        **({"index": index} if index else {}),
        "funnel": funnel,
    }


def check(summary: dict, written: dict[str, int | None]) -> list[str]:
    """Invariant violations, as messages (empty when all hold)."""
    problems = []
    total = summary["kept"] + sum(summary["dropped"].values()) + sum(summary["errors"].values())
    if summary["records_read"] != total:
        problems.append(f"records_read {summary['records_read']} != kept + dropped + errors {total}")
    if summary.get("index") and summary["index"]["selected"] != summary["records_read"]:
        problems.append(f"index rows selected {summary['index']['selected']} != records read {summary['records_read']}")
    if summary["funnel"] and summary["funnel"][-1]["pages_after"] != summary["kept"]:
        problems.append(f"funnel ends at {summary['funnel'][-1]['pages_after']}, kept is {summary['kept']}")
    expect = {"documents": summary["kept"], "errors": sum(summary["errors"].values()),
              "rejects": sum(summary["dropped"].values())}
    for name, rows in written.items():
        if rows is None:
            rows = 0
        if rows != expect[name]:
            problems.append(f"{name}/ holds {rows} rows but {expect[name]} were counted")
    return problems


def metrics_by_stage(result) -> dict[str, int] | None:
    """``{counter_name: value}`` from the runner, or None where metrics cannot be queried."""
    try:
        counters = result.metrics().query()["counters"]
    except Exception:
        return None
    out: dict[str, int] = defaultdict(int)
    for c in counters:
        if c.key.metric.namespace == "swallow":
            out[c.key.metric.name] += c.committed if c.committed is not None else c.attempted
    return dict(out)


def check_metrics(summary: dict, metrics: dict[str, int]) -> list[str]:
    problems = []
    by_stage: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for name, value in metrics.items():
        stage, _, rest = name.partition(".")
        by_stage[stage][rest] = value
    for row in summary["funnel"]:
        m = by_stage.get(row["stage"])
        if not m:
            continue
        dropped = sum(v for k, v in m.items() if k.startswith("dropped."))
        errs = sum(v for k, v in m.items() if k.startswith("error."))
        if (dropped, errs) != (row["dropped"], row["errors"]):
            problems.append(f"stage {row['stage']}: metrics say dropped={dropped} errors={errs}, "
                            f"outcomes say dropped={row['dropped']} errors={row['errors']}")
    return problems


#: _stats files that are not stage statistics (read above) or too large to inline.
_NOT_STAGE_STATS = ("outcomes", "samples", "prefilter_evidence", "subset_evidence")
MAX_STAT_ROWS = 200


def stage_stats(output: str) -> dict[str, list]:
    """What stages wrote besides kept/rejected/errors (``_stats/<stage>_<key>.jsonl``: dedup
    cluster sizes, blocked hosts, top-k threshold, classifier evaluations, medical share...),
    sorted so the report is the same on every runner; at most ``MAX_STAT_ROWS`` rows each."""
    prefix = f"{output.rstrip('/')}/_stats/"
    out: dict[str, list] = {}
    for m in sorted(FileSystems.match([prefix + "*.jsonl"])[0].metadata_list, key=lambda m: m.path):
        name = m.path[len(prefix):-len(".jsonl")]
        if name in _NOT_STAGE_STATS:
            continue
        rows = sorted((json.loads(x) for x in _read_lines(m.path)), key=lambda r: json.dumps(r, sort_keys=True))
        if name == "dedup_stats":  # (cluster_size, count) pairs → a histogram
            hist: dict[int, int] = defaultdict(int)
            for size, count in rows:
                hist[int(size)] += int(count)
            out["dedup_cluster_sizes"] = [{"cluster_size": k, "clusters": v} for k, v in sorted(hist.items())]
            continue
        if name == "hosts_blocked":  # counted over every row, before the list is cut
            by: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for row in rows:
                by[str(row.get("reason"))][0] += 1
                by[str(row.get("reason"))][1] += int(row.get("pages") or 0)
            out["hosts_blocked_by_reason"] = [{"reason": k, "hosts": v[0], "pages": v[1]} for k, v in sorted(by.items())]
        out[name] = rows[:MAX_STAT_ROWS]
    return out


def build_report(output: str, stage_order: list[str], config: dict, rejects_mode: str,
                 metrics: dict[str, int] | None = None, extra: dict | None = None,
                 strict: bool = True) -> dict:
    out = output.rstrip("/")
    outcomes = [json.loads(x) for x in _read_lines(f"{out}/_stats/outcomes.jsonl")]
    samples = sorted((json.loads(x) for x in _read_lines(f"{out}/_stats/samples.jsonl")),
                     key=lambda s: (s.get("stage") or "", s.get("reason") or ""))  # file order is the runner's
    summary = summarise(outcomes, stage_order)
    written = {"documents": parquet_rows(f"{out}/documents/part"),
               "errors": parquet_rows(f"{out}/errors/part")}
    if rejects_mode != "none":
        written["rejects"] = parquet_rows(f"{out}/rejects/")
    problems = check(summary, written)
    if metrics:
        problems += check_metrics(summary, metrics)
    report = {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **summary,
        "written_rows": written,
        "invariant_ok": not problems,
        "invariant_problems": problems,
        "recipe": config.get("name"),
        "config": config,
        "samples": samples,
        "stage_stats": stage_stats(out),
    }
    if metrics is not None:
        report["metrics"] = metrics
    try:  # a bounded sample of documents/*.parquet: scores and rule values for the plots
        report["distributions"] = report_plots.distributions(out)
    except Exception as exc:  # the plots must never fail a run whose counts are right
        report["distributions"] = {"error": f"{type(exc).__name__}: {exc}"}
    if extra:
        report.update(extra)
    with FileSystems.create(f"{out}/report.json") as f:
        f.write(json.dumps(report, ensure_ascii=False, indent=2, default=str).encode("utf-8"))
    with FileSystems.create(f"{out}/report.html") as f:
        f.write(render_html(report).encode("utf-8"))
    if problems and strict:
        raise InvariantError("run report invariant violated: " + "; ".join(problems))
    return report


def _bar(value: int, top: int, width: int = 420) -> str:
    w = 0 if top == 0 else max(1, int(width * value / top)) if value else 0
    return f'<svg width="{width}" height="14"><rect width="{w}" height="14" fill="#3b7dd8"/></svg>'


def _index_note(funnel_row: dict) -> str:
    if "index_rows" not in funnel_row:
        return ""
    return f" <small>({funnel_row['index_selected']:,} of {funnel_row['index_rows']:,} index rows selected)</small>"


#: Longest line of a stage-statistics row shown in the HTML (the JSON keeps it whole).
MAX_LINE = 240
_HOSTS_STATS = ("hosts_blocked", "hosts_top", "hosts_blocked_by_reason")


def _clip(line: str, limit: int = MAX_LINE) -> str:
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _hosts_html(stats: dict) -> str:
    """Blocked hosts once: a count per reason, then the top hosts by pages (the ``top`` rows are
    a subset of the ``blocked`` ones; report.json keeps both)."""
    by_reason, top = stats.get("hosts_blocked_by_reason"), stats.get("hosts_top") or []
    if not by_reason and not top:
        return ""
    e = html.escape
    n = sum(x["hosts"] for x in by_reason or [])
    summary = ", ".join(f"{e(x['reason'])}: {x['hosts']:,} hosts ({x['pages']:,} pages)" for x in by_reason or [])
    rows = "".join(
        f'<tr class="host"><td>{x.get("rank", "")}</td><td>{e(_clip(str(x.get("host")), 80))}</td>'
        f'<td>{e(str(x.get("reason")))}</td><td>{x.get("pages", 0):,}</td><td>{e(_clip(str(x.get("detail") or ""), 80))}</td></tr>'
        for x in sorted(top, key=lambda x: (x.get("rank") or 0, str(x.get("host")))))
    table = ("<table><tr class=\"host\"><th>rank</th><th>host</th><th>reason</th><th>pages</th><th>detail</th></tr>"
             f"{rows}</table>") if rows else ""
    return f"<h3>Blocked hosts</h3><p>{n:,} hosts blocked — {summary}</p>{table}"


def render_html(r: dict) -> str:
    e = html.escape
    top = r["records_read"] or 1
    rows = "".join(
        f"<tr><td>{e(f['stage'])}{_index_note(f)}</td><td>{f['pages_after']:,}</td><td>{_bar(f['pages_after'], top)}</td>"
        f"<td>{f['dropped']:,}</td><td>{f['errors']:,}</td><td>{f['text_chars_after']:,}</td>"
        f"<td>{e(', '.join(f'{k}: {v}' for k, v in f['by_reason'].items()))}</td></tr>"
        for f in r["funnel"]
    )
    samples = "".join(
        f"<h3>{e(s['stage'] or '')} / {e(s['reason'] or '')}</h3><ul>"
        + "".join(f"<li><a href=\"{e(x.get('url') or '')}\">{e(x.get('url') or x.get('id') or '')}</a> "
                  f"<small>{e(x.get('message') or '')}</small><br><q>{e((x.get('text') or x.get('title') or '')[:200])}</q></li>"
                  for x in s["samples"])
        + "</ul>"
        for s in r["samples"]
    )
    pe = r.get("prefilter_eval")
    prefilter = "" if not pe else (
        f"<h2>Prefilter precision/recall (labels: {e(str(pe.get('labels')))}; this run: {e(str(pe.get('mode')))})</h2>"
        "<table><tr><th>mode</th><th>precision</th><th>recall</th><th>tp</th><th>fp</th><th>fn</th></tr>"
        + "".join(f"<tr><td>{m}</td>" + ("<td colspan=5>not collected</td>" if not pe.get(m) else
                  "".join(f"<td>{pe[m][k]}</td>" for k in ("precision", "recall", "tp", "fp", "fn"))) + "</tr>"
                  for m in ("swallow", "kana", "both"))
        + "</table>")
    subset = "".join(
        f"<h2>Subset {e(str(x.get('subset')))}</h2><p>{x['pages_kept']:,} of {x['pages_in']:,} pages "
        f"({100 * x['share']:.1f}%): {e(str(x.get('column')))} ≥ {x.get('min_score')}"
        f"{e(''.join(f', {c} ≥ {m}' for c, m in x.get('floors') or []))}</p>"
        for x in r.get("stage_stats", {}).get("subset_share", []))
    se = r.get("subset_eval")
    if se:
        f3 = lambda v: "n/a" if v is None else f"{v:.3f}"
        subset += (f"<p>Against {e(str(se['labels']))}: {se['pages_labelled']} labelled pages of "
                   f"{se['pages_seen']} seen, {se['positives']} positive; precision {f3(se['precision'])}, "
                   f"recall {f3(se['recall'])}, ROC-AUC {f3(se['roc_auc'])} (tp {se['tp']}, fp {se['fp']}, fn {se['fn']})</p>")
    stage_stats = r.get("stage_stats", {})
    stats = _hosts_html(stage_stats) + "".join(
        f"<h3>{e(name)}</h3><pre>{e(chr(10).join(_clip(json.dumps(x, ensure_ascii=False)) for x in rows[:20]))}"
        f"{e(chr(10) + '…' if len(rows) > 20 else '')}</pre>"
        for name, rows in stage_stats.items() if name not in _HOSTS_STATS
    )
    ix = r.get("index")
    index = "" if not ix else (
        f"<p>Index-assisted read: {ix['rows']:,} index rows, {ix['selected']:,} selected and read by byte "
        f"range; not selected (never read): {e(json.dumps(ix['not_selected']))}</p>")
    status = "holds" if r["invariant_ok"] else "VIOLATED: " + "; ".join(r["invariant_problems"])
    return f"""<!doctype html><html lang="en"><meta charset="utf-8"><title>Swallow corpus run report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:80em;overflow-wrap:anywhere}}
td,th{{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}}
pre{{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f6f6;padding:4px}}
.plots{{display:flex;flex-wrap:wrap;gap:8px}}</style>
<h1>Swallow corpus run report ({e(str(r.get('recipe')))})</h1>
<p>records read {r['records_read']:,} → kept {r['kept']:,} ({r['kept_text_chars']:,} characters);
non-response WARC records {r['non_response_records']:,}. Invariant read = kept + dropped + errors: <b>{e(status)}</b></p>
{index}<h2>Funnel</h2><table><tr><th>stage</th><th>pages after</th><th></th><th>dropped</th><th>errors</th><th>characters after</th><th>reasons</th></tr>{rows}</table>
{prefilter}{subset}
{report_plots.render(r.get('distributions'))}
<h2>Errors</h2><p>{e(json.dumps(r['errors']))}</p>
<h2>Stage statistics</h2>{stats}
<h2>Sample rejects per reason</h2>{samples}
</html>"""
