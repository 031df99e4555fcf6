"""Each stage transform on FnApiRunner: TestPipeline + assert_that on its three outputs."""
import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import SAMPLE_WARCS
from transforms import stages
from transforms.extract import ExtractConfig
from transforms.read_warc import SKIPPED, ReadWarc
from transforms.stage import ERRORS, KEPT, REJECTED

import json

from tests.conftest import DATA
from transforms.harmful import DEFAULT_NGWORDS, load_words
from transforms.read_warc import iter_warc

JA_TEXT = json.loads((DATA / "ja_texts.jsonl").read_text(encoding="utf-8").splitlines()[0])["text"]
NG_SENTENCE = "、".join([w for w in load_words(DEFAULT_NGWORDS) if not w.isascii() and len(w) >= 3][:10]) + "。"


def _ids(pc, label):
    return pc | label >> beam.Map(lambda r: r["id"])


def _reasons(pc, label, key="reason"):
    return pc | label >> beam.Map(lambda r: (r["id"], r[key]))


def test_read_warc(test_pipeline):
    # the transform must agree with the pure reader, record for record
    expected = {"kept": [], "rejected": [], "skipped": 0}
    for path in SAMPLE_WARCS[:2]:
        for kind, payload in iter_warc(path):
            if kind == "skipped":
                expected["skipped"] += payload
            else:
                expected[kind].append((payload["id"], payload.get("reason")))
    assert len(expected["kept"]) > 100 and expected["rejected"]
    with test_pipeline as p:
        out = p | ReadWarc(SAMPLE_WARCS[:2])
        assert_that(out[KEPT] | beam.Map(lambda r: (r["id"], r.get("reason"))), equal_to(expected["kept"]),
                    label="kept")
        assert_that(_reasons(out[REJECTED], "R"), equal_to(expected["rejected"]), label="rejected")
        assert_that(out[ERRORS], equal_to([]), label="errors")
        assert_that(out[SKIPPED] | beam.Map(lambda pn: pn[1]) | "S" >> beam.CombineGlobally(sum),
                    equal_to([expected["skipped"]]), label="skipped")


def test_decode_routes_binary_to_errors(test_pipeline):
    recs = [
        {"id": "a", "html": "<html><body>日本語</body></html>".encode("shift_jis"), "http_charset": "iso-8859-1"},
        {"id": "b", "html": b"\x00\x01\x02" * 500, "http_charset": None, "warc_file": "f.warc.gz", "warc_offset": 9},
    ]
    with test_pipeline as p:
        out = p | beam.Create(recs) | stages.Decode()
        assert_that(out[KEPT] | beam.Map(lambda r: (r["id"], r["charset"], "日本語" in r["html"])),
                    equal_to([("a", "cp932", True)]), label="kept")
        assert_that(out[ERRORS] | beam.Map(lambda r: (r["id"], r["kind"], r["message"].startswith("f.warc.gz@9"))),
                    equal_to([("b", "undecodable", True)]), label="errors")


def test_prefilter(test_pipeline):
    recs = [
        {"id": "lang", "html": '<html lang="ja"><title>Calendar</title></html>'},
        {"id": "title", "html": "<html><title>日本語のタイトルです</title></html>"},
        {"id": "en", "html": "<html><title>An English page</title></html>"},
    ]
    with test_pipeline as p:
        out = p | beam.Create(recs) | stages.Prefilter()
        assert_that(_ids(out[KEPT], "k"), equal_to(["lang", "title"]), label="kept")
        assert_that(_reasons(out[REJECTED], "r"), equal_to([("en", "prefilter_not_ja_v1")]), label="rejected")


def test_extract_and_langid(test_pipeline):
    body = "".join(f"<p>{line}</p>" for line in JA_TEXT.split("\n"))
    recs = [
        {"id": "ja", "html": f"<html><body><article>{body}</article></body></html>"},
        {"id": "empty", "html": "<html><body></body></html>"},
        {"id": "en", "html": "<html><body><article><p>This is plainly an English paragraph about weather.</p>"
                             "</article></body></html>"},
    ]
    with test_pipeline as p:
        ext = p | beam.Create(recs) | stages.Extract(ExtractConfig(timeout_s=10))
        lid = ext[KEPT] | stages.LanguageId()
        assert_that(_reasons(ext[REJECTED], "er"), equal_to([("empty", "extract_empty_v1")]), label="ext_rej")
        assert_that(_ids(lid[KEPT], "lk"), equal_to(["ja"]), label="lid_kept")
        assert_that(_reasons(lid[REJECTED], "lr"), equal_to([("en", "lang_not_ja_v1")]), label="lid_rej")


def test_quality_harmful_normalize(test_pipeline):
    recs = [
        {"id": "good", "text": JA_TEXT + "\nCopyright (C) 2024 All rights reserved."},
        {"id": "short", "text": "短い。"},
        {"id": "ng", "text": JA_TEXT + "\n" + NG_SENTENCE},
    ]
    with test_pipeline as p:
        q = p | beam.Create(recs) | stages.QualityRules()
        h = q[KEPT] | stages.HarmfulFilter()
        n = h[KEPT] | stages.Normalize()
        assert_that(_reasons(q[REJECTED], "qr"), equal_to([("short", "ja_text_too_short_v1")]), label="q")
        assert_that(_reasons(h[REJECTED], "hr"), equal_to([("ng", "ng_word_frac_v1")]), label="h")
        assert_that(n[KEPT] | beam.Map(lambda r: (r["id"], r["footer_lines_cut"], r["text"] == JA_TEXT,
                                                  r["q_ja_chars"] > 400)),
                    equal_to([("good", 1, True, True)]), label="n")


def test_exception_in_rule_is_a_counted_error(test_pipeline):
    class Boom:
        name = "boom"

        def __call__(self, record):
            raise KeyError("text")

    from transforms.stage import RuleStage
    with test_pipeline as p:
        out = p | beam.Create([{"id": "x", "warc_file": "w", "warc_offset": 3}]) | RuleStage(Boom())
        assert_that(out[ERRORS] | beam.Map(lambda r: (r["kind"], r["message"][:5])),
                    equal_to([("boom_exception", "w@3: ")]), label="err")
        assert_that(out[KEPT], equal_to([]), label="none")
