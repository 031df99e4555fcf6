"""Decontamination benchmark (not a test): speed and memory with the index of all 12 suites, and
recall / false drops of the rule (``transforms/decontaminate.py``).

    python bench/decontaminate_bench.py speed  [--evals DIR] [--out bench/results/decontaminate_speed.json]
    python bench/decontaminate_bench.py recall [--evals DIR] [--ngrams 8,10,13] [--per_suite 200]

``speed``: the stage's rule (normalise, hash, look up, decide) on real extracted Japanese web
text (``text/web/cc_web_docs.jsonl``: 909 Common Crawl-derived documents, and the first 3,000
livedoor news articles), several passes, CPU time of this one process (so a busy machine does
not count), documents/s per core; index memory = the arrays' bytes and the growth of this
process's resident memory when the index is loaded and the matcher built; load time.

``recall``: for up to ``--per_suite`` items of each suite (seeded sample), the item is inserted
at a random line of a real page (cc_web_docs) in variants — the published ``text``; the matched
key (question / caption pair / reference / docstring); its first two thirds and first half
(``min_fraction`` 0.5 of the n-grams needs a little more than half the characters); the key with
spaces and line breaks inserted, with its punctuation changed (、。？ → ，．?), in full-width
(ASCII/digits) and half-width katakana, with one character replaced every 30 — and recall is
the share detected as an item (``eval_contamination_v1``), exact = the same item named. False
drops: pages dropped as an item among clean pages (cc_web_docs, livedoor news, KWDLC web leads,
Wikipedia leads, JSQuAD *test* paragraphs: Wikipedia text not in the valid split) and among
clean pages with one benchmark passage inserted (JSQuAD/JaQuAD/NIILC contexts, WMT20 sources),
where the right outcome is "passage only, kept". Each n in ``--ngrams`` gets its own index.
Most "false" drops of Wikipedia text are JCommonsenseQA/JMMLU questions written from a Wikipedia
definition sentence (「滝とは、河川や湖の一部が段差になっているため、水が落下している場所」), listed
under ``examples``.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import random
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transforms import evals  # noqa: E402
from transforms.decontaminate import DecontaminateConfig, DecontaminateRule, Matcher  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
TEXT = SHARED / "text"


def _jsonl(path: pathlib.Path, limit: int | None = None) -> list[dict]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                out.append(json.loads(line))
                if limit and len(out) >= limit:
                    break
    return out


def _texts(path: pathlib.Path, limit: int | None = None) -> list[str]:
    return [r["text"] for r in _jsonl(path, limit) if r.get("text")]


def _rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def speed(args) -> dict:
    index_path = "/tmp/decontaminate_bench_index.npz"
    meta = _build(args.evals, index_path, evals.DEFAULT_NGRAM)
    docs = _texts(TEXT / "web" / "cc_web_docs.jsonl") + _texts(TEXT / "labelled" / "livedoor_news_corpus.jsonl", 3000)
    rss0 = _rss()
    t0 = time.perf_counter()
    rule = DecontaminateRule(DecontaminateConfig(index=index_path))
    rule.setup()
    load_s = time.perf_counter() - t0
    rss1 = _rss()
    records = [{"id": str(i), "text": t} for i, t in enumerate(docs)]
    for r in records[:50]:  # warm up
        rule(r)
    passes, dropped = args.passes, 0
    c0 = time.process_time()
    for _ in range(passes):
        for r in records:
            dropped += rule(r)[1] is not None
    cpu = time.process_time() - c0
    n = passes * len(records)
    chars = sum(len(t) for t in docs) / len(docs)
    ix = rule._matcher.index
    return {
        "what": "decontaminate rule, all 12 suites loaded, one process (CPU time)",
        "machine": platform.platform(), "cpu_count": os.cpu_count(),
        "documents": len(records), "passes": passes, "mean_chars_per_document": round(chars),
        "docs_per_cpu_second": round(n / cpu), "chars_per_cpu_second": round(n * chars / cpu),
        "us_per_document": round(1e6 * cpu / n, 1), "dropped_per_pass": dropped // passes,
        "index": {"ngram": meta["ngram"], "ngrams": meta["ngrams"], "parts": meta["parts"],
                  "file_mib": round(meta["bytes"] / 2**20, 1),
                  "array_mib": round(ix.nbytes() / 2**20, 1),
                  "worker_rss_growth_mib": round((rss1 - rss0) / 2**20, 1),
                  "load_seconds": round(load_s, 2)},
    }


def _build(evals_dir: str, path: str, ngram: int) -> dict:
    from pipeline.evals_index import build_file

    return build_file(evals_dir, path, ngram=ngram)


# ------------------------------------------------------------------------------------- recall
_HALF_KATA = {chr(0x30A2 + 2 * i): chr(0xFF71 + i) for i in range(5)}  # ア イ ウ エ オ → ｱ ｲ ｳ ｴ ｵ


def _spaces(s, rng):
    return "".join(c + (rng.choice([" ", "\n", "　"]) if rng.random() < 0.15 else "") for c in s)


def _punct(s, rng):
    return s.translate(str.maketrans({"、": "，", "。": "．", "？": "?", "！": "!", "「": "『", "」": "』"}))


def _width(s, rng):
    s = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)
    return "".join(_HALF_KATA.get(c, c) for c in s)


def _typo(s, rng):
    chars = list(s)
    for i in range(15, len(chars), 30):
        chars[i] = rng.choice("あいうえおかきくけこ")
    return "".join(chars)


def _key_text(row: dict) -> str:
    keys, _ = evals.item_parts(row)
    if not keys:
        q = row.get("question")
        return q if isinstance(q, str) else row["text"]
    return "\n".join(keys[0])


VARIANTS = {
    "text": lambda row, rng: row["text"],
    "key": lambda row, rng: _key_text(row),
    "2/3_key": lambda row, rng: _key_text(row)[: max(1, 2 * len(_key_text(row)) // 3)],
    "half_key": lambda row, rng: _key_text(row)[: max(1, len(_key_text(row)) // 2)],
    "key+spaces": lambda row, rng: _spaces(_key_text(row), rng),
    "key+punctuation": lambda row, rng: _punct(_key_text(row), rng),
    "key+width": lambda row, rng: _width(_key_text(row), rng),
    "key+typo/30": lambda row, rng: _typo(_key_text(row), rng),
}


def _inject(page: str, snippet: str, rng) -> str:
    lines = page.split("\n")
    at = rng.randrange(len(lines) + 1)
    return "\n".join(lines[:at] + [snippet] + lines[at:])


def recall(args) -> dict:
    rng0 = random.Random(0)
    rows = list(evals.iter_items(args.evals))
    by_suite: dict[str, list] = {}
    for r in rows:
        by_suite.setdefault(r["suite"], []).append(r)
    sample = {s: rng0.sample(v, min(args.per_suite, len(v))) for s, v in sorted(by_suite.items())}
    hosts = _texts(TEXT / "web" / "cc_web_docs.jsonl")
    clean = {
        "cc_web_docs": hosts,
        "livedoor_news": _texts(TEXT / "labelled" / "livedoor_news_corpus.jsonl"),
        "kwdlc_web_leads": _texts(TEXT / "web" / "kwdlc_leads.jsonl"),
        "wikipedia_leads": _texts(TEXT / "encyclopedic" / "wikipedia_annotated_corpus_leads.jsonl"),
        "jsquad_test_paragraphs": [r["text"] for r in _jsonl(TEXT / "encyclopedic" / "jsquad_wiki_paragraphs.jsonl")
                                   if "valid" not in str(r.get("split", r.get("id", "")))],
    }
    passages = [(r["suite"], r.get("context") or r.get("source")) for r in rows if r.get("context") or r.get("source")]
    passages = list(dict.fromkeys(passages))
    passages = rng0.sample(passages, min(args.passages, len(passages)))
    results = {}
    for n in args.ngrams:
        index_path = f"/tmp/decontaminate_bench_index_{n}.npz"
        meta = _build(args.evals, index_path, n)
        m = Matcher(evals.load(index_path))
        per_suite = {}
        for suite, items in sample.items():
            rng = random.Random(f"{n}-{suite}")
            row_out = {"items": len(items), "matchable": meta["suites"][suite]["matchable"] / meta["suites"][suite]["items"]}
            for name, make in VARIANTS.items():
                hit = exact = 0
                for row in items:
                    page = _inject(rng.choice(hosts), make(row, rng), rng)
                    found = m.match(page).items
                    hit += bool(found)
                    exact += any(s == row["suite"] and i == row["id"] for s, i, _ in found)
                row_out[name] = round(hit / len(items), 3)
                row_out[name + ":exact"] = round(exact / len(items), 3)
            per_suite[suite] = row_out
        false = {}
        for name, pages in clean.items():
            drops = [i for i, t in enumerate(pages) if m.match(t).items]
            psg = sum(1 for t in pages if m.match(t).passages)
            false[name] = {"pages": len(pages), "dropped_as_item": len(drops), "passage_only_kept": psg,
                           "false_drop_rate": round(len(drops) / max(1, len(pages)), 5),
                           "examples": [pages[i][:80] for i in drops[:3]]}
        rng = random.Random(f"{n}-passages")
        p_item = p_found = 0
        for suite, text in passages:
            mm = m.match(_inject(rng.choice(hosts), text, rng))
            p_item += bool(mm.items)
            p_found += bool(mm.passages) and not mm.items
        false["pages_with_one_passage"] = {
            "pages": len(passages), "dropped_as_item": p_item, "passage_only_kept": p_found,
            "false_drop_rate": round(p_item / max(1, len(passages)), 4),
            "passage_detected_rate": round(p_found / max(1, len(passages)), 4)}
        results[f"n={n}"] = {"index": {k: meta[k] for k in ("ngram", "ngrams", "parts", "ngrams_dropped_common")},
                             "recall": per_suite, "false_drops": false}
    return {"what": "recall of injected evaluation items per suite and variant; false drops on clean pages",
            "per_suite": args.per_suite, "min_fraction": DecontaminateConfig().min_fraction, "results": results}


def _markdown(r: dict) -> str:
    lines = []
    for key, res in r["results"].items():
        lines.append(f"## {key} (min_fraction {r['min_fraction']})\n")
        cols = list(VARIANTS)
        lines.append("| suite | matchable | " + " | ".join(cols) + " |")
        lines.append("|---|---:|" + "---:|" * len(cols))
        for suite, row in res["recall"].items():
            lines.append(f"| {suite} | {row['matchable']:.3f} | " + " | ".join(f"{row[c]:.3f}" for c in cols) + " |")
        lines.append("\n| clean set | pages | dropped as item | passage only (kept) |\n|---|---:|---:|---:|")
        for name, f in res["false_drops"].items():
            lines.append(f"| {name} | {f['pages']} | {f['dropped_as_item']} | {f['passage_only_kept']} |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="decontamination bench (speed, memory, recall, false drops)")
    ap.add_argument("mode", choices=["speed", "recall"])
    ap.add_argument("--evals", default=str(SHARED / "evals"), help="directory of the 12 suites' JSONL")
    ap.add_argument("--passes", type=int, default=3, help="speed: passes over the documents")
    ap.add_argument("--ngrams", default="8,10,13", help="recall: n values, one index each")
    ap.add_argument("--per_suite", type=int, default=200, help="recall: items sampled per suite")
    ap.add_argument("--passages", type=int, default=1000, help="recall: passages injected into clean pages")
    ap.add_argument("--out", default=None, help="JSON to write (default bench/results/decontaminate_<mode>.json)")
    args = ap.parse_args(argv)
    args.ngrams = [int(x) for x in str(args.ngrams).split(",")]
    result = speed(args) if args.mode == "speed" else recall(args)
    out = pathlib.Path(args.out or ROOT / "bench" / "results" / f"decontaminate_{args.mode}.json")
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    if args.mode == "recall":
        out.with_suffix(".md").write_text(_markdown(result) + "\n")
        print(_markdown(result))
    else:
        print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
