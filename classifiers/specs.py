"""What each shipped classifier learns from, how it is selected and how it is judged.

A :class:`Spec` names the model (``medical``, ``edu``, ``wiki``), its score column and kind, the
label it learns, which corpus supplements join the training data, the hyper-parameter grid that
:mod:`classifiers.search` runs by grouped cross-validation on the ``dev`` split, and the
selection metric. :mod:`classifiers.build` trains the shipped model on all of ``dev`` with the
chosen parameters; :mod:`classifiers.evaluate` reports it on ``test`` (hosts and sources never
used for training or tuning; :mod:`classifiers.datasets`).
"""
from __future__ import annotations

from dataclasses import dataclass

from classifiers import datasets as D

MEDICAL_SUPPLEMENTS = ("corpus_igakuqa", "corpus_yakugakuqa_expl", "corpus_medtxt_cr", "corpus_nursing",
                       "corpus_medweb", "corpus_wikipedia_leads", "corpus_livedoor", "corpus_kwdlc")
WIKI_SUPPLEMENTS = ("corpus_wikipedia_leads", "corpus_jsquad", "corpus_livedoor", "corpus_kwdlc")


@dataclass(frozen=True)
class Spec:
    """``label``: the row field learnt (``medical``, ``edu``, ``wiki``); ``supplements``: corpus
    origins added to training (:data:`classifiers.datasets.SUPPLEMENTS`, ``supplement_limit``
    random texts each); ``grid``: fastText settings tried; ``select``: the cross-validated metric
    that picks one (higher is better), computed on ``select_on`` rows. The Wiki classifier's
    positives all come from one source (Wikipedia leads), so its search folds that source by
    article (``cv_by_document``); its held-out test is another Wikipedia source."""

    name: str
    column: str
    kind: str
    label: str
    supplements: tuple[str, ...] = ()
    supplement_limit: int = 1000
    max_chars: int = 1200  # the readers read the first 1,200 characters
    grid: tuple[dict, ...] = ()
    select: str = "roc_auc"
    select_on: str = "web"
    #: corpus groups that cross-validation splits by document (else a corpus is always trained on)
    cv_by_document: tuple[str, ...] = ()

    def __post_init__(self):
        if self.kind not in ("binary", "edu"):
            raise ValueError(f"kind {self.kind!r}: expected binary or edu")
        if not self.grid:
            raise ValueError("a spec needs a non-empty grid")


_BASE = dict(dim=16, min_count=1, bucket=200000, cutoff=50000)

SPECS = {
    # selected and thresholded on web_v2, not on the website pages alone: their share of medical
    # pages (a third) is far above the web's, and a threshold tuned there selects too much
    "medical": Spec(
        name="medical", column="medical_score", kind="binary", label="medical",
        supplements=MEDICAL_SUPPLEMENTS, select="roc_auc", select_on="web_v2",
        grid=tuple({**_BASE, **g} for g in (
            dict(lr=0.3, epoch=15), dict(lr=0.5, epoch=10), dict(lr=1.0, epoch=10),
            dict(lr=0.5, epoch=10, dim=32), dict(lr=1.0, epoch=20)))),
    "edu": Spec(
        name="edu", column="edu_score", kind="edu", label="edu", select="spearman", select_on="web",
        grid=tuple({**_BASE, **g} for g in (
            dict(lr=0.5, epoch=25), dict(lr=1.0, epoch=25), dict(lr=1.0, epoch=50),
            dict(lr=0.5, epoch=25, dim=32)))),
    "wiki": Spec(
        name="wiki", column="wiki_score", kind="binary", label="wiki", supplements=WIKI_SUPPLEMENTS,
        supplement_limit=3000, select="roc_auc", select_on="all", cv_by_document=("wikipedia:leads",),
        grid=tuple({**_BASE, **g} for g in (dict(lr=0.3, epoch=10), dict(lr=0.5, epoch=10), dict(lr=1.0, epoch=10)))),
}


def get(name: str) -> Spec:
    try:
        return SPECS[name]
    except KeyError:
        raise ValueError(f"unknown classifier {name!r}; known: {sorted(SPECS)}") from None


def rows(spec: Spec, shared: str | None = None, seed: int = 0) -> list[dict]:
    """The rows that carry ``spec.label``: texts labelled by reading, plus the supplements. For
    the Wiki classifier every labelled text is a negative except Wikipedia's own paragraphs
    (the first labelled set's ``jsquad`` texts)."""
    shared = D.shared_dir(shared)
    labelled = D.labelled_rows(shared)
    if spec.label == "wiki":
        for r in labelled:
            r.setdefault("wiki", 0)
    out = D.with_label(labelled, spec.label)
    if spec.supplements:
        seen = {r["text"] for r in labelled}  # a labelled text never comes back as a supplement
        out += [r for r in D.with_label(D.supplements(shared, spec.supplement_limit, seed, spec.supplements),
                                        spec.label) if r["text"] not in seen]
    return out


def evaluation_slices(spec: Spec) -> dict:
    """Name → row predicate: the slices every evaluation of ``spec`` reports."""
    slices = {
        "all": lambda r: True,
        "web": lambda r: r["family"] == "web",
        "corpus": lambda r: r["family"] == "corpus",
        "site_pages": lambda r: r["origin"] == "site_page",
        "site_pages_v2": lambda r: r["origin"] == "site_page" and r.get("v2_pass"),
        # what the classifier meets in the pipeline: website pages v2's rules keep, and web
        # documents (already filtered by the corpora they come from), at the web's prevalence
        "web_v2": lambda r: r["family"] == "web" and (r["origin"] != "site_page" or r.get("v2_pass")),
        "web_docs": lambda r: r["family"] == "web" and r["origin"] != "site_page",
    }
    return slices
