"""The labelled data of the classifiers, as one table, with splits grouped by host or source.

Every row: ``text``, ``origin`` (where it comes from), ``family`` (``web`` for web pages and web
documents, ``corpus`` for corpus texts), ``group`` (the unit a split never cuts: a host where the
URL is known, a whole corpus where it is one site, else the document), ``split`` (``dev`` or
``test``) and the labels it has: ``edu`` (0–3), ``medical`` (0/1) by reading, ``site_kind``
(``medical``/``other``: a site-level label), ``wiki`` (0/1: the text is a Wikipedia article's),
and ``v2_pass`` (web pages only: v2's per-record rules keep the page).

Sources (under ``../shared/data``, see its SOURCES.md):
- ``warc_sites/``: whole Japanese websites, medical and other small businesses; each page's main
  text extracted by the pipeline's own rules (:mod:`classifiers.pages`); labels by reading in
  ``classifiers/data/labels/``; group = host.
- ``text/web/cc_web_docs.jsonl`` (labels by reading in ``classifiers/data/labels/``) and
  ``text/labelled/web_labels_2.jsonl``: Common Crawl-derived web documents; group = host (at most
  two pages per host), or the document where no URL is known.
- ``text/labelled/edu_medical_labels.jsonl``: sample-crawl pages (group = host), Common Crawl
  pages, KWDLC web leads (group = document), livedoor news, Wikipedia paragraphs, exam
  explanations, case reports (group = the whole corpus).
- corpus supplements (:func:`supplements`): medical exam/clinical texts, Wikipedia, news.

The test split is a quarter of the web groups, chosen by a hash of the group name (stratified by
site kind for the websites, so both kinds are held out), and JSQuAD's Wikipedia paragraphs;
corpora are training supplements (:func:`is_test_group`). It was fixed once: nothing is tuned on it
(:mod:`classifiers.search` sees only ``dev``), and :mod:`classifiers.evaluate` reports on it.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import random
from urllib.parse import urlsplit

HERE = os.path.dirname(__file__)
LABELS_DIR = os.path.join(HERE, "data", "labels")
DEFAULT_SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))
TEST_MOD = 4  # one group in four is test

#: corpus origins of the first labelled set whose texts come from one corpus: one group each, the
#: same group as that corpus's supplement (:data:`SUPPLEMENTS`)
_ONE_SITE = {"livedoor": "corpus:livedoor", "jsquad": "wikipedia:jsquad",
             "yakugaku_expl": "corpus:yakugakuqa_expl", "medtxt_cr": "corpus:medtxt_cr"}
_CORPUS_ORIGINS = {"livedoor", "jsquad", "yakugaku_expl", "medtxt_cr"}


def shared_dir(path: str | None = None) -> str:
    d = path or os.environ.get("SWALLOW_SHARED_DATA") or DEFAULT_SHARED
    if not os.path.isdir(d):
        raise FileNotFoundError(f"shared data directory {d!r} not found (give --shared or set "
                                "SWALLOW_SHARED_DATA)")
    return d


def host(url: str | None) -> str:
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


def _h(s: str) -> int:
    return int(hashlib.sha1(s.encode("utf-8")).hexdigest()[:12], 16)


def is_test_group(group: str) -> bool:
    """Web hosts and documents: one in ``TEST_MOD`` by hash. Corpora (``corpus:``) are training
    supplements, always ``dev``. Wikipedia is split by source: JSQuAD's paragraphs are ``test``,
    the article leads ``dev`` (the Wiki classifier is judged on a Wikipedia source it never saw)."""
    if group == "wikipedia:jsquad":
        return True
    if group.startswith(("corpus:", "wikipedia:")):
        return False
    return _h(group) % TEST_MOD == 0


def read_jsonl(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def reading_labels() -> dict[str, dict]:
    """Labels by reading shipped with the project (``classifiers/data/labels/*.jsonl``), by uid
    (``page:<id>`` for a web page of warc_sites, ``doc:<id>`` for a cc_web_docs document). Where
    two readers read one text (the agreement overlap), the first file's label is used."""
    out: dict[str, dict] = {}
    for path in sorted(glob.glob(os.path.join(LABELS_DIR, "*.jsonl"))):
        for row in read_jsonl(path):
            out.setdefault(row["uid"], row)
    return out


def _site_rows(shared: str, labels: dict[str, dict]) -> list[dict]:
    from classifiers.pages import iter_pages, read_sites

    sites = read_sites(os.path.join(shared, "warc_sites", "sites.tsv"))
    paths = sorted(glob.glob(os.path.join(shared, "warc_sites", "*.warc.gz")))
    pages = list(iter_pages(paths, sites))
    # Test hosts: per site kind, hosts sorted by hash, every fourth.
    kinds: dict[str, set] = {}
    for p in pages:
        kinds.setdefault(p.get("kind", "other"), set()).add(p["host"])
    test_hosts = set()
    for hosts in kinds.values():
        test_hosts |= {h for i, h in enumerate(sorted(hosts, key=_h)) if i % TEST_MOD == 0}
    rows = []
    for p in pages:
        if not p["text"].strip():
            continue
        lab = labels.get("page:" + p["id"], {})
        rows.append({"uid": "page:" + p["id"], "text": p["text"], "origin": "site_page", "family": "web",
                     "group": p["host"], "split": "test" if p["host"] in test_hosts else "dev",
                     "site_kind": p.get("kind"), "v2_pass": p["v2_reason"] is None, "url": p["url"],
                     **{k: lab[k] for k in ("edu", "medical") if k in lab}})
    return rows


def _web_doc_rows(shared: str, labels: dict[str, dict]) -> list[dict]:
    rows = []
    text_dir = os.path.join(shared, "text")
    docs = read_jsonl(os.path.join(text_dir, "web", "cc_web_docs.jsonl"))
    labelled = [(d, labels.get("doc:" + d["id"])) for d in docs]
    labelled += [(d, d) for d in read_jsonl(os.path.join(text_dir, "labelled", "web_labels_2.jsonl"))]
    for d, lab in labelled:
        if lab is None:
            continue
        group = host(d.get("url")) or "doc:" + d["id"]
        rows.append({"uid": "doc:" + d["id"], "text": d["text"], "origin": "web_doc", "family": "web",
                     "group": group, "split": "test" if is_test_group(group) else "dev",
                     "source": d.get("origin"), "url": d.get("url"),
                     "edu": int(lab["edu"]), "medical": int(lab["medical"])})
    return rows


def _v1_label_rows(shared: str) -> list[dict]:
    rows = []
    for d in read_jsonl(os.path.join(shared, "text", "labelled", "edu_medical_labels.jsonl")):
        origin = d["origin"]
        group = host(d.get("url")) or _ONE_SITE.get(origin) or f"{origin}:{d['id']}"
        rows.append({"uid": "v1:" + d["id"], "text": d["text"],
                     "origin": "corpus_" + origin if origin in _CORPUS_ORIGINS else "web_" + origin.replace("-", "_"),
                     "family": "corpus" if origin in _CORPUS_ORIGINS else "web",
                     "group": group, "split": "test" if is_test_group(group) else "dev",
                     "url": d.get("url"), "edu": int(d["edu"]), "medical": int(d["medical"]),
                     "wiki": int(origin == "jsquad")})
    return rows


#: (file under text/, origin, group, labels) of corpus texts used as a training supplement
SUPPLEMENTS = (
    ("medical/igakuqa_questions.jsonl", "corpus_igakuqa", "corpus:igakuqa", {"medical": 1}),
    ("medical/yakugakuqa_explanations.jsonl", "corpus_yakugakuqa_expl", "corpus:yakugakuqa_expl", {"medical": 1}),
    ("medical/medtxt_cr_case_reports.jsonl", "corpus_medtxt_cr", "corpus:medtxt_cr", {"medical": 1}),
    ("medical/nursing_records_mock.jsonl", "corpus_nursing", "corpus:nursing", {"medical": 1}),
    ("medical/medweb_mock_tweets.jsonl", "corpus_medweb", "corpus:medweb", {"medical": 1}),
    ("encyclopedic/wikipedia_annotated_corpus_leads.jsonl", "corpus_wikipedia_leads", "wikipedia:leads",
     {"medical": 0, "wiki": 1}),
    ("encyclopedic/jsquad_wiki_paragraphs.jsonl", "corpus_jsquad", "wikipedia:jsquad", {"medical": 0, "wiki": 1}),
    ("labelled/livedoor_news_corpus.jsonl", "corpus_livedoor", "corpus:livedoor", {"medical": 0, "wiki": 0}),
    ("web/kwdlc_leads.jsonl", "corpus_kwdlc", "corpus:kwdlc", {"medical": 0, "wiki": 0}),
)


def supplements(shared: str, limit: int, seed: int = 0, origins: tuple[str, ...] | None = None) -> list[dict]:
    """Corpus texts with the labels their corpus implies (``limit`` random texts per file), split
    as their group (:func:`is_test_group`)."""
    rng = random.Random(seed)
    rows = []
    for rel, origin, group, labels in SUPPLEMENTS:
        if origins is not None and origin not in origins:
            continue
        items = read_jsonl(os.path.join(shared, "text", rel))
        if limit and len(items) > limit:
            items = rng.sample(items, limit)
        for d in items:
            rows.append({"uid": f"{origin}:{d.get('id')}", "text": d["text"], "origin": origin,
                         "family": "corpus", "group": group,
                         "split": "test" if is_test_group(group) else "dev", **labels})
    return rows


def labelled_rows(shared: str | None = None) -> list[dict]:
    """Every text labelled by reading (web pages, web documents, the first labelled set)."""
    shared = shared_dir(shared)
    labels = reading_labels()
    rows = _site_rows(shared, labels) + _web_doc_rows(shared, labels) + _v1_label_rows(shared)
    return rows


def with_label(rows: list[dict], field: str) -> list[dict]:
    return [r for r in rows if r.get(field) is not None]
