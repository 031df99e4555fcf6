"""Recipes are functions that build a :class:`PipelineConfig` (torchtitan style): ``v1`` is the
Swallow corpus as published (Okazaki et al., NLP2024); later recipes start from it and change a
few fields. ``stages`` is the order of the DAG, so recipes can reorder stages (v1: quality → dedup →
hosts; v2: dedup → relaxed rules → classifiers) without touching transform code.

Two stages beyond the papers are in every recipe:
- ``pii`` (e-mail and IP addresses replaced, FineWeb-style; Japanese phone numbers, My Number and
  card numbers optional) right after the quality rules and the NG-word filter: the ~75% of
  pages those drop never pay for it, and every later stage (dedup, classifiers) sees the text
  as it will be written;
- ``decontaminate`` (pages with items of the Japanese evaluation suites dropped) last, right
  after ``normalize``, just before the writers: it checks exactly the text that is written (after
  footer removal), and drops from the final set, so a dedup cluster or a top-k band is never
  decided by a page that is then removed for another reason. Without ``--evals_index`` it is
  skipped and the report says so.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from pipeline.stage_names import STAGE_NAMES
from transforms.config_fields import ConfigError, FieldError, refuse
from transforms.decode import DecodeConfig
from transforms.decontaminate import DecontaminateConfig
from transforms.dedup import DedupConfig
from transforms.extract import ExtractConfig
from transforms.harmful import HarmfulConfig
from transforms.langid import LangIdConfig
from transforms.normalize import NormalizeConfig
from transforms.pii import PIIConfig
from transforms.prefilter import PrefilterConfig
from transforms.quality import QualityConfig
from transforms.read_index import IndexReadConfig
from transforms.warc_records import ReadConfig
from transforms.hosts import HostsConfig
from transforms.classify import ClassifyConfig, MEDICAL, EDU, WIKI
from transforms.subset import SubsetConfig
from transforms.topk import TopKConfig


@dataclass(frozen=True)
class PipelineConfig:
    name: str = "v1"
    stages: tuple[str, ...] = ()
    read: ReadConfig = field(default_factory=ReadConfig)
    index: IndexReadConfig = field(default_factory=IndexReadConfig)  # used only with --index
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    prefilter: PrefilterConfig = field(default_factory=PrefilterConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    langid: LangIdConfig = field(default_factory=LangIdConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    harmful: HarmfulConfig = field(default_factory=HarmfulConfig)
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    hosts: HostsConfig = field(default_factory=HostsConfig)
    classify: ClassifyConfig = field(default_factory=ClassifyConfig)
    topk: TopKConfig = field(default_factory=TopKConfig)
    subset: SubsetConfig = field(default_factory=SubsetConfig)  # used by the "subset" stage
    pii: PIIConfig = field(default_factory=PIIConfig)
    decontaminate: DecontaminateConfig = field(default_factory=DecontaminateConfig)  # index: --evals_index

    def __post_init__(self):
        unknown = [s for s in self.stages if s not in STAGE_NAMES]
        if unknown:
            refuse(self, "stages", f"unknown stage(s) {unknown}; known: {sorted(STAGE_NAMES)}")


def v1() -> PipelineConfig:
    """Swallow corpus v1 (NLP2024 Fig. 1): prefilter → extract → LID → quality → NG words →
    (PII) → MinHash dedup → host filter → normalise → (decontaminate)."""
    return PipelineConfig(
        name="v1",
        stages=("prefilter", "decode", "extract", "langid", "quality", "harmful", "pii", "dedup", "hosts",
                "normalize", "decontaminate"),
    )


def v2() -> PipelineConfig:
    """Swallow corpus v2 (Hattori et al. NLP2025): extract as v1 → relaxed quality rules (v1 minus
    katakana, Japanese-char fraction and duplicate 5–10-gram rules) → NG words → fastText Wiki and
    educational-value classifiers → keep the top 10% by educational score. Prefilter: ``both``
    (Swallow's rule or kana).

    No host blocklist (v1's ``hosts`` stage): our choice, with no source either way. Swallow's
    public code (swallow-llm/swallow-corpus) builds v1 only, and the text of Hattori et al.
    (NLP2025) was not available to us to check whether v2 ran v1's host rules. We leave them
    out because v2 selects by page content (relaxed rules, NG words, then the top 10% by the
    educational classifier), and on the sample crawl (``tests/data/warc``) the host rules change
    nothing v2 writes: run after ``pii`` they block one host (``host_ng_ratio_v1``, 1 of 167
    pages), and the top 10% is the same 17 documents. To run them, add ``"hosts"`` to
    ``stages`` in a ``--config`` file (``{"stages": [..., "pii", "hosts", "classify", ...]}``)."""
    from transforms.quality import relaxed

    base = v1()
    return dataclasses.replace(
        base,
        name="v2",
        stages=("prefilter", "decode", "extract", "langid", "dedup", "quality", "harmful", "pii",
                "classify", "topk", "normalize", "decontaminate"),
        prefilter=dataclasses.replace(base.prefilter, mode="both"),
        quality=relaxed(base.quality),
        classify=ClassifyConfig(models=(WIKI, EDU)),
        topk=TopKConfig(score="edu_score", top_from=0.0, top_to=0.10),
    )


#: ``medical_score`` threshold of the medical subset: the F1-best threshold (rounded down to 4
#: decimals) of the shipped model's out-of-fold scores on the dev split's web texts (website pages
#: that v2's rules keep, and Common Crawl-derived documents: 8% medical), 4 folds grouped
#: by host (``classifiers/results/search_medical.json``: ``python -m classifiers.search --model
#: medical``). The score is P(medical) of a model whose positives are mostly exam and clinical
#: texts, so web pages score low and the threshold is low; it is a rank cut, not a probability.
MEDICAL_THRESHOLD = 0.0264


def medical() -> PipelineConfig:
    """The Japanese medical subset, selected from v2's quality pool: v2's stages up to and including
    the NG-word filter and PII (prefilter ``both``, MinHash dedup, relaxed quality rules), then the
    classifiers (Wiki, educational value, medical/health) and the ``medical`` subset: pages with
    ``medical_score >= MEDICAL_THRESHOLD``. No top-10% cut: v2's cut by educational value keeps
    few of the pages of clinics, pharmacies and care services. An optional floor on the
    educational score: ``{"subset": {"floors": [["edu_score", 1.0]]}}`` in a ``--config`` file.

    The threshold was chosen on a validation split grouped by website and never on the pages it
    is reported on (``classifiers/README.md``). ``--subset_labels FILE`` adds the subset's
    precision and recall against a labels file to the run report."""
    base = v2()
    pool = base.stages[: base.stages.index("pii") + 1]
    return dataclasses.replace(
        base,
        name="medical",
        stages=pool + ("classify", "subset", "normalize", "decontaminate"),
        classify=ClassifyConfig(models=(WIKI, EDU, MEDICAL)),
        subset=SubsetConfig(name="medical", column="medical_score", min_score=MEDICAL_THRESHOLD),
    )


RECIPES = {"v1": v1, "v2": v2, "medical": medical}


def get(name: str) -> PipelineConfig:
    try:
        return RECIPES[name]()
    except KeyError:
        raise ValueError(f"unknown recipe {name!r}; known: {sorted(RECIPES)}") from None


def override(cfg, changes: dict, path: str = ""):
    """A copy of the (nested, frozen) dataclass ``cfg`` with ``changes`` applied recursively.
    Unknown keys, values of the wrong type and values each config's ``__post_init__`` refuses
    are an error naming the field (a typo or a quoted number must not silently keep the default
    or turn every page into an error)."""
    from pipeline.config_check import check_type

    if not isinstance(changes, dict):
        raise ConfigError(f"config {path.rstrip('.') or 'file'}: must be a JSON object, got {changes!r}")
    updates = {}
    names = {f.name: f for f in dataclasses.fields(cfg)}
    for key, value in changes.items():
        if key not in names:
            raise ConfigError(f"config {path.rstrip('.') or 'file'}: {type(cfg).__name__} has no field "
                              f"{key!r}; fields: {sorted(names)}")
        current = getattr(cfg, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"config field {path}{key}: must be an object of fields, got {value!r}")
            updates[key] = override(current, value, f"{path}{key}.")
        else:
            value = check_type(f"{path}{key}", current, value, nullable="None" in str(names[key].type))
            if isinstance(current, tuple):
                value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
            updates[key] = value
    try:
        return dataclasses.replace(cfg, **updates)
    except FieldError as e:  # raised by cfg's own __post_init__: give the field its full path
        raise e.under(path) from None


def load(name: str, config_file: str | None = None) -> PipelineConfig:
    """The recipe ``name`` with ``config_file``'s overrides (each config validates its values)."""
    cfg = get(name)
    if config_file:
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.open(config_file) as f:
            raw = f.read()
        try:
            changes = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ConfigError(f"--config {config_file}: not valid JSON ({e})") from None
        cfg = override(cfg, changes)
    return cfg


def to_dict(cfg) -> dict:
    return dataclasses.asdict(cfg)
