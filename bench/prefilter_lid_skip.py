"""Evidence for ``PrefilterConfig.title_lid_needs_cjk``: does lid.176 ever call a title ``ja``
when the title (as the LID sees it: at most ``max_title_chars``) has no character in
U+3000–U+9FFF, U+F900–U+FAFF or U+FF00–U+FFEF?

The prefilter keeps a page on its title when lid.176's top label is ``ja`` (no probability
threshold). If no title without such a character is ever labelled ``ja``, running the LID only on
titles that have one changes no decision and saves the prediction (10–30 us) on nearly every
non-Japanese page.

String sets, each run through the same :class:`classifiers.langid.LangId` the rule uses:

- ``warc titles``: every ``<title>`` the prefilter extracts (:class:`transforms.prefilter_head.RawHead`,
  the bytes path the DAG runs) from every response in every WARC file under ``--data`` (the
  sample crawl ``warc/`` and the real crawler files ``warc_real/``), plus the same titles taken
  from the decoded page (:func:`transforms.prefilter_head.page_title`);
- ``wat titles``: the ``Title`` fields of any WAT file there;
- ``ja text, CJK removed``: the first line of every Japanese text in ``text/**/*.jsonl`` with every
  character of those ranges deleted — what a Japanese title looks like when the rule would skip
  it (Latin words, digits, romaji, symbols): the adversarial case;
- ``ja text``: the same first lines unchanged (the LID's sanity: these are mostly ``ja``);
- ``romaji domains``: ``.jp`` host names of the UT1 lists, split into words (romaji);
- ``ng words``: the NG-word lists' entries.

Run: ``python bench/prefilter_lid_skip.py [--data DIR] [--json OUT]``. Prints one line per set:
strings, strings without such a character, how many of those lid.176 labels ``ja`` (must be 0),
and the highest P(ja) among them; and, for the rule's ``LangId(k=1)``, how many strings get
a different top label than with k=3 (must be 0).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from classifiers.langid import LangId  # noqa: E402
from transforms.prefilter import PrefilterConfig, has_lid_script  # noqa: E402
from transforms.prefilter_head import RawHead, page_title  # noqa: E402

DEFAULT_DATA = "/work/shared/data"


def warc_files(root: str) -> list[str]:
    out = []
    for sub in ("warc", "warc_real"):
        for p in sorted(glob.glob(os.path.join(root, sub, "**", "*"), recursive=True)):
            name = os.path.basename(p)
            if os.path.isfile(p) and ".warc" in name and ".wat" not in name and ".wet" not in name:
                out.append(p)
    return out


def warc_titles(paths: list[str], cfg: PrefilterConfig) -> list[str]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from transforms.decode import decode_html

    titles = []
    for path in paths:
        try:
            with open(path, "rb") as fh:
                for rec in ArchiveIterator(fh, parse_http=True):
                    if rec.record_type != WarcRecordType.response:
                        continue
                    body = rec.reader.read()
                    charset = rec.http_charset if rec.is_http else None
                    try:
                        titles.append(RawHead(body, charset, cfg).title())
                    except Exception:  # an undecodable head: the rule raises before any LID
                        pass
                    try:
                        titles.append(page_title(decode_html(body, charset)[0], cfg.scan_chars))
                    except Exception:
                        pass
        except Exception as e:  # the deliberately broken pywb file: keep what was read
            print(f"# {os.path.relpath(path)}: stopped reading: {type(e).__name__}", file=sys.stderr)
    return titles


def wat_titles(root: str) -> list[str]:
    import gzip

    out = []
    for p in glob.glob(os.path.join(root, "**", "*.wat.gz"), recursive=True):
        with gzip.open(p, "rt", encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.startswith("{"):
                    continue
                try:
                    doc = json.loads(line)
                except ValueError:
                    continue
                stack = [doc]
                while stack:
                    x = stack.pop()
                    if isinstance(x, dict):
                        for k, v in x.items():
                            if k == "Title" and isinstance(v, str):
                                out.append(v)
                            else:
                                stack.append(v)
                    elif isinstance(x, list):
                        stack.extend(x)
    return out


_LID_RANGES = [(0x3000, 0x9FFF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF)]


def strip_lid_script(s: str) -> str:
    return "".join(c for c in s if not any(lo <= ord(c) <= hi for lo, hi in _LID_RANGES))


def text_first_lines(root: str) -> list[str]:
    out = []
    for p in sorted(glob.glob(os.path.join(root, "text", "**", "*.jsonl"), recursive=True)):
        with open(p, encoding="utf-8") as f:
            for line in f:
                try:
                    text = json.loads(line).get("text") or ""
                except ValueError:
                    continue
                first = text.strip().split("\n", 1)[0]
                if first:
                    out.append(first[:256])
    return out


def romaji_domains(root: str) -> list[str]:
    out = []
    for p in glob.glob(os.path.join(root, "ut1", "*", "domains")):
        with open(p, encoding="utf-8", errors="replace") as f:
            for line in f:
                host = line.strip()
                if host.endswith(".jp"):
                    out.append(" ".join(w for w in host.replace("-", ".").split(".")[:-1] if w not in ("www", "co", "ne", "or")))
    return out


def ng_words(root: str) -> list[str]:
    out = []
    for p in glob.glob(os.path.join(root, "ngwords", "*.txt")):
        with open(p, encoding="utf-8") as f:
            out.extend(line.strip() for line in f if line.strip())
    return out


def measure(strings: list[str], lid: LangId, cfg: PrefilterConfig, lid_k1: LangId) -> dict:
    n = no_script = no_script_ja = with_script = with_script_ja = k1_differs = 0
    max_p = 0.0
    examples = []
    for s in dict.fromkeys(strings):  # distinct strings
        s = " ".join(s.split())
        if not s:
            continue
        seen = s[: cfg.max_title_chars]  # what the rule hands to the LID
        n += 1
        top, p = lid.predict(seen)
        k1_differs += lid_k1.predict(seen)[0] != top  # the rule asks fastText for k=1
        if has_lid_script(seen):
            with_script += 1
            with_script_ja += top == "ja"
        else:
            no_script += 1
            max_p = max(max_p, p)
            if top == "ja":
                no_script_ja += 1
                examples.append(seen)
    return {"strings": n, "without_cjk": no_script, "without_cjk_labelled_ja": no_script_ja,
            "max_p_ja_without_cjk": round(max_p, 4), "with_cjk": with_script,
            "with_cjk_labelled_ja": with_script_ja, "top_label_k1_differs_from_k3": k1_differs,
            "examples_labelled_ja": examples[:20]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--json", default=None, help="write the counts here")
    args = ap.parse_args(argv)
    cfg = PrefilterConfig()
    lid, lid_k1 = LangId(k=3).load(), LangId(k=1).load()
    files = warc_files(args.data)
    lines = text_first_lines(args.data)
    sets = {
        "warc titles": warc_titles(files, cfg),
        "wat titles": wat_titles(args.data),
        "ja text, CJK removed": [strip_lid_script(s) for s in lines],
        "ja text": lines,
        "romaji domains": romaji_domains(args.data),
        "ng words": ng_words(args.data),
    }
    result = {"warc_files": [os.path.relpath(p, args.data) for p in files], "sets": {}}
    print(f"{len(files)} WARC files under {args.data}; LID input = title[:{cfg.max_title_chars}], "
          "rule: top label == ja")
    print("(the ja-without-CJK column must be 0 for title_lid_needs_cjk to change no decision)")
    print(f"{'set':24} {'strings':>8} {'no CJK':>8} {'no CJK->ja':>10} {'max P(ja)':>9} "
          f"{'CJK':>7} {'CJK->ja':>8} {'k1!=k3':>7}")
    total_bad = 0
    for name, strings in sets.items():
        m = measure(strings, lid, cfg, lid_k1)
        result["sets"][name] = m
        total_bad += m["without_cjk_labelled_ja"]
        print(f"{name:24} {m['strings']:8d} {m['without_cjk']:8d} {m['without_cjk_labelled_ja']:10d} "
              f"{m['max_p_ja_without_cjk']:9.4f} {m['with_cjk']:7d} {m['with_cjk_labelled_ja']:8d} "
              f"{m['top_label_k1_differs_from_k3']:7d}")
        for ex in m["examples_labelled_ja"]:
            print(f"    labelled ja without CJK: {ex!r}")
    result["without_cjk_labelled_ja_total"] = total_bad
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
