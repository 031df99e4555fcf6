"""Distributions of the kept documents' scores and rule values, for the run report.

Every kept document carries its classifier scores (``wiki_score``, ``edu_score``,
``medical_score``..., any ``*_score`` column) and each quality rule's measured value (``q_*``),
so thresholds can be re-chosen later (as dolma's attribute files allow); the report shows what
those values look like. They are read from ``documents/*.parquet`` -- only those columns, from at
most :data:`MAX_FILES` files spread evenly over the sorted list and at most :data:`MAX_ROWS`
rows in all -- so the cost does not grow with the run. Histograms are kept in ``report.json``
(``distributions``) and drawn as inline SVG (no plotting library, no image files).
"""
from __future__ import annotations

import html
import math

from apache_beam.io.filesystems import FileSystems

MAX_ROWS = 20_000
MAX_FILES = 32
BINS = 30


def plotted(name: str, dtype) -> bool:
    import pyarrow.types as t

    numeric = t.is_integer(dtype) or t.is_floating(dtype) or t.is_boolean(dtype)
    return numeric and (name.endswith("_score") or name.startswith("q_"))


def spread(items: list, k: int) -> list:
    """``k`` items evenly spread over ``items`` (all of them when there are at most ``k``)."""
    if len(items) <= k:
        return list(items)
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]


def sample_columns(output: str, max_rows: int = MAX_ROWS, max_files: int = MAX_FILES) -> tuple[dict, int, int]:
    """``({column: [values]}, rows in documents/, rows sampled)`` for the plotted columns."""
    import pyarrow.parquet as pq

    from pipeline.report import parquet_rows  # (report imports this module)

    prefix = f"{output.rstrip('/')}/documents/part"
    match = FileSystems.match([f"{prefix}*.parquet"])[0].metadata_list
    paths = sorted(m.path for m in match)
    values: dict[str, list] = {}
    total, sampled = parquet_rows(prefix) or 0, 0
    chosen = spread(paths, max_files)
    per_file = math.ceil(max_rows / max(len(chosen), 1))
    for path in chosen:
        with FileSystems.open(path) as fh:
            pf = pq.ParquetFile(fh)
            cols = [f.name for f in pf.schema_arrow if plotted(f.name, f.type)]
            if not cols:
                continue
            taken = 0
            for batch in pf.iter_batches(batch_size=min(per_file, 8192), columns=cols):
                batch = batch.slice(0, per_file - taken)
                for name in cols:
                    values.setdefault(name, []).extend(batch.column(name).to_pylist())
                taken += batch.num_rows
                if taken >= per_file:
                    break
            sampled += taken
    return values, total, sampled


def histogram(values: list, bins: int = BINS) -> dict | None:
    """Counts over ``bins`` equal bins between the minimum and maximum, with summary figures;
    None when no value is a finite number."""
    xs = sorted(float(v) for v in values if v is not None and math.isfinite(float(v)))
    if not xs:
        return None
    lo, hi = xs[0], xs[-1]
    width = (hi - lo) / bins if hi > lo else 1.0
    counts = [0] * (bins if hi > lo else 1)
    for x in xs:
        counts[min(int((x - lo) / width), len(counts) - 1)] += 1

    def q(p: float) -> float:
        return xs[min(int(p * len(xs)), len(xs) - 1)]

    r6 = lambda x: float(f"{x:.6g}")  # report.json stays small and readable
    return {"n": len(xs), "missing": len(values) - len(xs), "min": lo, "max": hi,
            "mean": r6(sum(xs) / len(xs)), "p10": q(0.1), "p50": q(0.5), "p90": q(0.9),
            "edges": [r6(lo + i * width) for i in range(len(counts) + 1)], "counts": counts}


def distributions(output: str, max_rows: int = MAX_ROWS, max_files: int = MAX_FILES) -> dict:
    """What ``report.json`` keeps under ``distributions``: scores first, then rule values."""
    values, total, sampled = sample_columns(output, max_rows, max_files)
    order = sorted(values, key=lambda c: (not c.endswith("_score"), c))
    hists = {c: h for c in order if (h := histogram(values[c])) is not None}
    return {"documents": total, "sampled": sampled, "columns": hists}


def _num(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1e5 else f"{x:.3e}"


def svg_histogram(name: str, h: dict, width: int = 300, height: int = 110) -> str:
    """One histogram as an inline SVG: bars, the value range under them, the median marked."""
    e = html.escape
    pad, top, axis = 4, 16, 14
    plot_w, plot_h = width - 2 * pad, height - top - axis
    peak = max(h["counts"]) or 1
    bw = plot_w / len(h["counts"])
    bars = "".join(
        f'<rect x="{pad + i * bw:.1f}" y="{top + plot_h - plot_h * c / peak:.1f}" width="{max(bw - 1, 1):.1f}" '
        f'height="{plot_h * c / peak:.1f}" fill="#3b7dd8"><title>{_num(h["edges"][i])}–{_num(h["edges"][i + 1])}: '
        f'{c}</title></rect>'
        for i, c in enumerate(h["counts"]) if c)
    span = (h["max"] - h["min"]) or 1.0
    mx = pad + plot_w * (h["p50"] - h["min"]) / span if h["max"] > h["min"] else pad + plot_w / 2
    return (f'<svg class="hist" width="{width}" height="{height}" role="img" aria-label="{e(name)}">'
            f'<text x="{pad}" y="11" font-size="11">{e(name)} (n={h["n"]:,}, median {_num(h["p50"])})</text>'
            f'{bars}<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#d83b3b" '
            f'stroke-dasharray="3,2"/>'
            f'<text x="{pad}" y="{height - 2}" font-size="10">{_num(h["min"])}</text>'
            f'<text x="{width - pad}" y="{height - 2}" font-size="10" text-anchor="end">{_num(h["max"])}</text>'
            f'</svg>')


def render(d: dict | None) -> str:
    """The report's section: score histograms, then rule-value histograms."""
    if not d:
        return ""
    if d.get("error"):
        return f"<h2>Distributions</h2><p>not available: {html.escape(d['error'])}</p>"
    cols = d.get("columns") or {}
    if not cols:
        return ""
    scores = [c for c in cols if c.endswith("_score")]
    rules = [c for c in cols if c.startswith("q_")]
    note = (f"<p>Kept documents: {d['sampled']:,} sampled of {d['documents']:,} "
            f"(columns of documents/*.parquet; median dashed).</p>")
    part = lambda title, names: (f"<h3>{title}</h3><div class=plots>"
                                 + "".join(svg_histogram(c, cols[c]) for c in names) + "</div>") if names else ""
    return ("<h2>Distributions of kept documents</h2>" + note + part("Scores", scores)
            + part("Rule values (q_*)", rules))
