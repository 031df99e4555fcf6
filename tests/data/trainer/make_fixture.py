"""Regenerate the trainer test fixture from the project's shared text.

Not run by the tests (a clone has no shared/); kept so the fixture can be
rebuilt.  Writes two Parquet files in the pipeline's schema with small row
groups (so tokenisation is exercised streaming several batches per file) and
a byte-level BPE tokenizer trained on them.
"""
import datetime
import hashlib
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "text")
SOURCES = {
    "corpus-00000.parquet": ("encyclopedic/wikipedia_annotated_corpus_leads.jsonl", 300_000),
    "corpus-00001.parquet": ("labelled/livedoor_news_corpus.jsonl", 400_000),
}


def rows(path: str, budget: int):
    with open(os.path.join(SHARED, path)) as fh:
        for i, line in enumerate(fh):
            text = json.loads(line)["text"].strip()
            budget -= len(text.encode("utf-8"))
            if budget < 0:
                return
            h = hashlib.sha1(text.encode()).hexdigest()
            host = f"{h[:6]}.example.jp"
            yield {
                "id": h,
                "url": f"https://{host}/{i}",
                "host": host,
                "crawl_date": datetime.date(2023, 1, 1 + i % 28).isoformat(),
                "warc_file": "CC-MAIN-2023-06/fixture.warc.gz",
                "title": text[:20],
                "text": text,
                "lang_score": 0.99,
            }


def main() -> None:
    for name, (src, budget) in SOURCES.items():
        table = pa.Table.from_pylist(list(rows(src, budget)))
        pq.write_table(table, os.path.join(HERE, name), row_group_size=100, compression="zstd")
    sys.path.insert(0, os.path.join(HERE, "..", "..", ".."))
    from trainer.train_tokenizer import train

    train([os.path.join(HERE, n) for n in SOURCES], 2000, os.path.join(HERE, "tokenizer.json"))


if __name__ == "__main__":
    main()
