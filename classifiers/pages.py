"""Web pages as the pipeline sees them, for training and evaluating classifiers on what they will
score: each HTML response of a WARC goes through the pipeline's own per-record rules (recipe v2:
prefilter, decode, extract, LID, relaxed quality rules, NG words) in this process, without Beam.
A page keeps its extracted main text whatever the rules decide, and ``v2_reason`` says which rule
(if any) dropped it, so an evaluation can restrict itself to the pages v2 passes on.

Deduplication is not applied (it is a property of a corpus, not of a page).

    python -m classifiers.pages --warc '../shared/data/warc_sites/*.warc.gz' \\
        --sites ../shared/data/warc_sites/sites.tsv --out /tmp/site_pages.jsonl
"""
from __future__ import annotations

import argparse
import csv
import glob
import json
import sys
from typing import Iterator


def _v2_rules():
    from pipeline.recipes import v2
    from transforms.decode import DecodeRule
    from transforms.extract import extract_resiliparse, extract_trafilatura
    from transforms.harmful import HarmfulRule
    from transforms.langid import LangIdRule
    from transforms.prefilter import PrefilterRule
    from transforms.quality import QualityRule

    cfg = v2()
    extract = {"resiliparse": extract_resiliparse, "trafilatura": extract_trafilatura}[cfg.extract.extractor]
    before = [PrefilterRule(cfg.prefilter), DecodeRule(cfg.decode)]
    after = [LangIdRule(cfg.langid), QualityRule(cfg.quality), HarmfulRule(cfg.harmful)]
    for r in before + after:
        if hasattr(r, "setup"):
            r.setup()
    return before, extract, after


def read_sites(path: str) -> dict[str, dict]:
    """``sites.tsv`` rows by WARC-Record-ID."""
    with open(path, encoding="utf-8", newline="") as f:
        return {row["record_id"]: row for row in csv.DictReader(f, delimiter="\t")}


def iter_pages(paths: list[str], sites: dict[str, dict] | None = None) -> Iterator[dict]:
    """One dict per HTML response: id, record_id, url, host, (site, kind), text, v2_reason."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from transforms.warc_records import ReadConfig, fastwarc_base, fastwarc_classify
    from transforms.records import RecordError

    before, extract, after = _v2_rules()
    cfg = ReadConfig()
    for path in paths:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, parse_http=True):
                if rec.record_type != WarcRecordType.response:
                    continue
                rid = rec.headers.get("WARC-Record-ID", "")
                base = fastwarc_base(rec, path, rec.stream_pos)
                outcome, r = fastwarc_classify(rec, base, rec.reader.read(cfg.max_record_bytes + 1), cfg)
                if outcome != "kept":
                    continue
                reason = None
                try:
                    for rule in before:
                        r, why = rule(r)
                        reason = reason or why
                    text = extract(r["html"])
                    r = {k: v for k, v in r.items() if k != "html"}
                    r["text"] = text
                    if not text:
                        reason = reason or "extract_empty_v1"
                    for rule in after:
                        if not text:
                            break
                        r, why = rule(r)
                        reason = reason or why
                except RecordError as e:
                    reason = reason or e.kind
                page = {"id": r["id"], "record_id": rid, "url": r["url"], "host": r["host"],
                        "text": r.get("text", ""), "v2_reason": reason}
                row = (sites or {}).get(rid)
                if row is not None:
                    page["site"] = row["site"]
                    page["kind"] = row["kind"]
                yield page


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m classifiers.pages", description=__doc__.split("\n\n")[0])
    ap.add_argument("--warc", required=True, help="WARC glob (quote it)")
    ap.add_argument("--sites", default=None, help="sites.tsv with site kind per record (optional)")
    ap.add_argument("--out", required=True, help="JSONL to write")
    args = ap.parse_args(argv)
    paths = sorted(glob.glob(args.warc))
    if not paths:
        print(f"no file matches {args.warc!r}", file=sys.stderr)
        return 2
    sites = read_sites(args.sites) if args.sites else None
    n = 0
    with open(args.out, "w", encoding="utf-8") as f:
        for page in iter_pages(paths, sites):
            f.write(json.dumps(page, ensure_ascii=False) + "\n")
            n += 1
    print(f"{n} pages -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
