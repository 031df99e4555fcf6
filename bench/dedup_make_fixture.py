"""Build tests/data/dedup/near_dups.jsonl: real Japanese web pages with synthetic near-duplicates.

Source: /work/shared/data/text/web/abeja_cc_ja_keyphrase_docs.jsonl (real Common Crawl Japanese
pages, ABEJA CC-ja extract; see /work/shared/data/text/MANIFEST.tsv). For each of 20 ~2,000-char
pages ("families") we write the original, one exact copy (newer crawl) and one near copy per edit
rate in EDIT_RATES (each edited character replaced by another character of the same page, seeded),
with the exact Jaccard of char-5-gram sets to the original; 20 ~200-char pages are singletons.

    python bench/dedup_make_fixture.py [--src DIR] [--out tests/data/dedup/near_dups.jsonl]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import pathlib
import random
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from transforms.minhash import jaccard, shingles  # noqa: E402

EDIT_RATES = (0.01, 0.02, 0.05, 0.10)


def mutate(text: str, rate: float, rng: random.Random) -> str:
    """Replace round(rate * len) distinct positions by a different character of the same text."""
    chars = list(text)
    n = max(1, round(rate * len(chars)))
    pool = [c for c in set(chars) if not c.isspace()] or ["あ"]
    for i in rng.sample(range(len(chars)), min(n, len(chars))):
        c = rng.choice(pool)
        while c == chars[i] and len(pool) > 1:
            c = rng.choice(pool)
        chars[i] = c
    return "".join(chars)


def make_record(doc_id: str, url: str, date: str, text: str, **extra) -> dict:
    host = url.split("/")[2] if "://" in url else ""
    rec = {"id": doc_id, "url": url, "host": host, "crawl_date": date, "warc_file": "synthetic",
           "text": text, "text_chars": len(text)}
    rec.update(extra)
    return rec


def rand_date(rng: random.Random, year0: int = 2015, year1: int = 2022) -> str:
    return (f"{rng.randint(year0, year1)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", default="/work/shared/data/text/web/abeja_cc_ja_keyphrase_docs.jsonl")
    ap.add_argument("--out", default="tests/data/dedup/near_dups.jsonl")
    a = ap.parse_args()
    rng = random.Random(20240310)
    docs = [json.loads(line) for line in open(a.src, encoding="utf-8")]
    longs = [d for d in docs if 1500 <= len(d["text"]) <= 2500][:20]
    shorts = [d for d in docs if 150 <= len(d["text"]) <= 300][:20]
    out = []
    for d in longs:
        fam = hashlib.sha1(d["url"].encode()).hexdigest()[:12]
        date = rand_date(rng, 2015, 2018)
        out.append(make_record(f"{fam}-orig", d["url"], date, d["text"], family=fam, role="original",
                               edit_rate=0.0, jaccard_to_original=1.0))
        out.append(make_record(f"{fam}-exact", d["url"] + "?mirror", rand_date(rng, 2019, 2022), d["text"],
                               family=fam, role="exact_copy", edit_rate=0.0, jaccard_to_original=1.0))
        base = shingles(d["text"])
        for rate in EDIT_RATES:
            t = mutate(d["text"], rate, rng)
            out.append(make_record(f"{fam}-edit{int(rate * 100):02d}", d["url"] + f"?e={rate}",
                                   rand_date(rng, 2015, 2022), t, family=fam, role=f"near_copy_edit{rate}",
                                   edit_rate=rate, jaccard_to_original=round(jaccard(base, shingles(t)), 6)))
    for d in shorts:
        fam = hashlib.sha1(d["url"].encode()).hexdigest()[:12]
        out.append(make_record(f"{fam}-single", d["url"], rand_date(rng), d["text"], family=fam,
                               role="original", edit_rate=0.0, jaccard_to_original=1.0))
    pathlib.Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(len(out), "records ->", a.out)


if __name__ == "__main__":
    main()
