"""Train a byte-level BPE ``tokenizer.json`` on the corpus Parquet.

    python -m trainer.train_tokenizer --input corpus/*.parquet \\
        --vocab-size 32000 --output tokenizer.json

For tests and for users training from scratch; continued pre-training uses
the base model's own tokenizer.  Byte-level: every UTF-8 byte is in the
alphabet, so no Japanese character is ever unknown.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator

import fsspec
import pyarrow.parquet as pq

from trainer.tokenize import expand_inputs

SPECIAL_TOKENS = ["<|end_of_text|>", "<|pad|>"]


def iter_texts(sources: list[str], text_column: str = "text", limit_bytes: int = 0) -> Iterator[str]:
    seen = 0
    for src in sources:
        with fsspec.open(src, "rb") as fh:
            for batch in pq.ParquetFile(fh).iter_batches(batch_size=1024, columns=[text_column]):
                for t in batch.column(0).to_pylist():
                    if not t:
                        continue
                    yield t
                    seen += len(t.encode("utf-8"))
                    if limit_bytes and seen >= limit_bytes:
                        return


def train(sources: list[str], vocab_size: int, output: str, text_column: str = "text", limit_bytes: int = 0):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(iter_texts(sources, text_column, limit_bytes), trainer=trainer)
    tok.save(output)
    return tok


def main(argv: list[str] | None = None) -> int:
    from pipeline.argv import OneLineParser

    p = OneLineParser(prog="python -m trainer.train_tokenizer", description=__doc__.split("\n\n")[0])
    p.add_argument("--input", nargs="+", required=True)
    p.add_argument("--vocab-size", type=int, default=32000)
    p.add_argument("--output", required=True)
    p.add_argument("--text-column", default="text")
    p.add_argument("--limit-bytes", type=int, default=0, help="stop reading after this many bytes of text")
    a = p.parse_args(argv)
    tok = train(expand_inputs(a.input), a.vocab_size, a.output, a.text_column, a.limit_bytes)
    print(f"wrote {a.output}: vocab {tok.get_vocab_size()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
