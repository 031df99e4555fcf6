"""Decode: Japanese legacy charsets, wrong headers, UTF-8 mislabelled in <meta>, binary bodies."""
import pytest

from transforms.decode import decode_html, is_binary, meta_charset, normalise_charset
from transforms.decode import DecodeRule
from transforms.records import RecordError

JA = "<html><head><title>日本語のページ</title></head><body><p>これは日本語の文章です。カタカナも漢字も。</p></body></html>"


def page(charset: str, meta: str | None = None) -> bytes:
    head = f'<meta http-equiv="Content-Type" content="text/html; charset={meta}">' if meta else ""
    return JA.replace("<head>", "<head>" + head).encode(charset)


@pytest.mark.parametrize("raw,header,expected_codec", [
    (page("utf-8"), "utf-8", "utf_8"),
    (page("utf-8"), None, "utf_8"),
    (page("shift_jis"), "Shift_JIS", "cp932"),
    (page("shift_jis"), None, "cp932"),
    (page("shift_jis", meta="Shift_JIS"), None, "cp932"),
    (page("shift_jis"), "ISO-8859-1", "cp932"),          # wrong header on a Shift_JIS page
    (page("euc-jp"), "EUC-JP", "euc_jp"),
    (page("euc-jp"), None, "euc_jp"),
    (page("euc-jp"), "iso-8859-1", "euc_jp"),            # wrong header on an EUC-JP page
    (page("euc-jp", meta="x-euc-jp"), None, "euc_jp"),
    (page("iso-2022-jp"), None, "iso2022_jp"),
    (page("iso-2022-jp"), "iso-8859-1", "iso2022_jp"),
    (page("utf-8", meta="Shift_JIS"), None, "utf_8"),    # meta says Shift_JIS, bytes are UTF-8
    (page("utf-8", meta="Shift_JIS"), "x-unknown-charset", "utf_8"),
    (b"\xef\xbb\xbf" + page("utf-8"), None, "utf_8"),
    (page("utf-16"), None, "utf_16"),                     # BOM
    (page("utf-16-le"), None, "utf_16_le"),               # no BOM
    (b"<html><body>plain ascii</body></html>", None, "ascii"),
    ("<html><body>Caf\u00e9 cr\u00e8me</body></html>".encode("latin-1"), "iso-8859-1", "iso8859_1"),
    ("<html><body>Caf\u00e9 cr\u00e8me</body></html>".encode("latin-1"), None, "latin_1"),
])
def test_decoding(raw, header, expected_codec):
    text, codec = decode_html(raw, header)
    assert codec == expected_codec
    if expected_codec not in ("ascii", "latin_1", "iso8859_1"):
        assert "これは日本語の文章です。" in text


def test_unknown_charset_name_is_ignored_not_fatal():
    assert normalise_charset("x-no-such-charset") is None
    text, codec = decode_html(page("shift_jis"), "x-no-such-charset")
    assert codec == "cp932" and "日本語" in text


def test_meta_charset_found_in_head():
    assert meta_charset(b'<meta charset="EUC-JP">') == "EUC-JP"
    assert meta_charset(b"<meta http-equiv=Content-Type content='text/html;charset=x-sjis'>") == "x-sjis"


def test_binary_body_is_an_error_record():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20
    assert is_binary(png)
    with pytest.raises(RecordError) as e:
        DecodeRule()({"html": png, "http_charset": None, "warc_file": "f.warc.gz", "warc_offset": 7})
    assert e.value.kind == "undecodable"


def test_invalid_utf8_with_a_stray_byte_still_decodes():
    raw = page("utf-8")[:60] + b"\xff" + page("utf-8")[60:]
    text, codec = decode_html(raw, "utf-8")
    assert "日本語" in text or codec == "latin_1"


# (declared charset of a valid UTF-8 Japanese page): codecs that are no page encoding are ignored
NOT_PAGE_ENCODINGS = ["unicode_escape", "undefined", "raw_unicode_escape", "base64", "rot13", "idna", "zlib"]


@pytest.mark.parametrize("declared", NOT_PAGE_ENCODINGS)
def test_codec_names_that_are_no_page_encoding_are_ignored(declared):
    from transforms.prefilter_head import RawHead  # noqa: F401  (the prefilter's head uses the same lookup)

    page = f'<html><head><meta charset="{declared}"><title>日本語のページ</title></head><body>本文です。</body></html>'
    assert normalise_charset(declared) is None
    text, codec = decode_html(page.encode("utf-8"), declared)
    assert "日本語のページ" in text and codec.replace("-", "_") == "utf_8"
