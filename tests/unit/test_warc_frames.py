"""A bad record costs that record only: the reader resynchronises at the next gzip member or
``WARC/1.`` header and counts what it skipped (a table of broken inputs → expected outcomes)."""
import gzip
import io
import re
from collections import Counter

import pytest

from tests.warcgen import gz_members, response, warcinfo
from transforms.warc_records import _iso, iter_warc


def pages(n=5, date="2024-03-01T10:00:00Z"):
    return [response(f"http://a.jp/{i}", b"<html><body>page %d</body></html>" % i, date=date) for i in range(n)]


def with_length(record: bytes, value) -> bytes:
    n = int(re.search(rb"Content-Length: (\d+)", record).group(1))
    v = str(n + value).encode() if isinstance(value, int) else value
    return re.sub(rb"Content-Length: \d+", b"Content-Length: " + v, record, count=1)


def third_lies(value, gz=True):
    rs = pages()
    rs[2] = with_length(rs[2], value)
    return gz_members(rs) if gz else b"".join(rs)


def corrupt_member(n=4, which=1):
    ms = [gzip.compress(r) for r in pages(n)]
    b = bytearray(ms[which])
    b[20:40] = b"\x00" * 20
    ms[which] = bytes(b)
    return b"".join(ms)


def read(data: bytes, name="x.warc.gz"):
    tally, got, msgs = {}, Counter(), []
    for kind, payload in iter_warc(f"/data/{name}", stream=io.BytesIO(data), tally=tally):
        if kind == "skipped":
            continue
        got[payload["kind"] if kind == "errors" else kind] += 1
        if kind == "errors":
            msgs.append(payload["message"])
    return dict(got), tally, msgs


# (case, bytes, file name, expected outcomes): every record present in the file is counted.
CASES = [
    ("content-length +500, gzip", third_lies(500), "x.warc.gz", {"kept": 4, "truncated_record": 1}),
    ("content-length -5, gzip", third_lies(-5), "x.warc.gz", {"kept": 4, "bad_content_length": 1}),
    ("content-length -50, gzip", third_lies(-50), "x.warc.gz", {"kept": 4, "bad_content_length": 1}),
    ("content-length abc, gzip", third_lies(b"abc"), "x.warc.gz", {"kept": 4, "bad_content_length": 1}),
    ("content-length 1e23, gzip", third_lies(b"1e23"), "x.warc.gz", {"kept": 4, "bad_content_length": 1}),
    ("content-length +500, plain", third_lies(500, gz=False), "x.warc", {"kept": 4, "bad_content_length": 1}),
    ("content-length -5, plain", third_lies(-5, gz=False), "x.warc", {"kept": 4, "bad_content_length": 1}),
    ("content-length abc, plain", third_lies(b"abc", gz=False), "x.warc", {"kept": 4, "bad_content_length": 1}),
    ("content-length 1e23, plain", third_lies(b"1e23", gz=False), "x.warc", {"kept": 4, "bad_content_length": 1}),
    ("corrupt gzip member 2 of 4", corrupt_member(), "x.warc.gz", {"kept": 3, "warc_read_error": 1}),
    ("corrupt last member", corrupt_member(4, 3), "x.warc.gz", {"kept": 3, "warc_read_error": 1}),
    ("garbage between members", gz_members(pages(2)) + b"junk" * 50 + gz_members(pages(2)), "x.warc.gz",
     {"kept": 4, "warc_read_error": 1}),
    ("garbage between plain records", b"".join(pages(2)) + b"junk\r\n" * 50 + b"".join(pages(2)), "x.warc",
     {"kept": 4, "warc_read_error": 1}),
    ("file cut inside the last member", gz_members(pages(2)) + gzip.compress(pages(3)[2])[:-30], "x.warc.gz",
     {"kept": 2, "truncated_record": 1}),
    ("plain file cut inside the last record", b"".join(pages(3))[:-40], "x.warc", {"kept": 2, "truncated_record": 1}),
    ("whole-file gzip, one member", gzip.compress(warcinfo() + b"".join(pages(3))), "x.warc.gz", {"kept": 3}),
    ("zero padding after the last member", gz_members(pages(2)) + b"\x00" * 512, "x.warc.gz", {"kept": 2}),
    ("not a WARC at all", bytes(range(256)) * 20, "x.warc.gz", {"warc_read_error": 1}),
    ("empty file", b"", "x.warc.gz", {}),
]


@pytest.mark.parametrize("case,data,name,expected", CASES, ids=[c[0] for c in CASES])
def test_broken_input_costs_only_the_broken_record(case, data, name, expected):
    got, tally, msgs = read(data, name)
    assert got == expected
    assert tally["records"] == sum(expected.values())  # the reader's own count
    assert all(f"/data/{name}@" in m for m in msgs)     # every error names file@offset


def test_a_lying_length_inside_a_3_gib_claim_loses_only_that_record():
    rs = pages(3)
    rs[1] = with_length(rs[1], b"3221225472")
    got, _, msgs = read(gz_members(rs))
    assert got == {"kept": 2, "truncated_record": 1}


# (WARC-Date, stored crawl_date): invalid or future dates become null, the oldest in dedup.
DATES = [
    ("2024-03-01T10:00:00Z", "2024-03-01T10:00:00Z"),
    ("2024-03-01T10:00:00.250Z", "2024-03-01T10:00:00.250000Z"),
    ("2024-03-01T19:00:00+09:00", "2024-03-01T10:00:00Z"),
    ("2024-03-01T10:00:00", "2024-03-01T10:00:00Z"),
    ("9999-01-01T00:00:00Z", None),
    ("2999-01-01T00:00:00Z", None),
    ("1970-01-01T00:00:00Z", None),
    ("not-a-date", None),
    ("", None),
    ("<b>2024-03-01</b>", None),
]


@pytest.mark.parametrize("raw,stored", DATES)
def test_crawl_dates_are_validated(raw, stored):
    assert _iso(raw) == stored


def test_invalid_dates_are_counted_by_the_reader():
    rs = pages(2) + pages(1, date="9999-12-31T00:00:00Z")
    rs[-1] = rs[-1].replace(b"/0", b"/future")
    got, tally, _ = read(gz_members(rs))
    assert got == {"kept": 3} and tally["crawl_date_invalid"] == 1


def test_a_future_dated_copy_never_wins_keep_the_newest():
    from transforms.components import node_key

    real = node_key("b" * 16, _iso("2024-03-01T10:00:00Z"))
    for bad in ("9999-01-01T00:00:00Z", "not-a-date", "", "<i>2030</i>"):
        assert min([node_key("a" * 16, _iso(bad)), real]) == real


@pytest.mark.parametrize("raw, stored", [
    ("2023-09-18T22:28:19Z", "2023-09-18T22:28:19Z"),  # Common Crawl's form: kept as it is
    ("2023-02-30T00:00:00Z", None), ("2023-13-01T00:00:00Z", None), ("2023-01-01T24:00:00Z", None),
    ("1990-12-31T23:59:59Z", None), ("1991-01-01T00:00:00Z", "1991-01-01T00:00:00Z"), ("2999-01-01T00:00:00Z", None),
    ("２０２３-01-01T00:00:00Z", None), ("2023-01-01T09:00:00+09:00", "2023-01-01T00:00:00Z"),
])
def test_canonical_dates_take_the_string_path_with_the_same_answers(raw, stored):
    assert _iso(raw) == stored
