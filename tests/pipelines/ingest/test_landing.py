"""Reading landed files: lines found without copying the text, numbered as a person counts them."""

from __future__ import annotations

import pytest

from pipelines.ingest.landing import UnreadableFile, _json_lines_copied, decode_bytes, json_lines


def _lines(data: bytes) -> list[tuple[int, str]]:
    table = json_lines(data)
    return list(zip(table["record_number"].to_pylist(), table["line"].to_pylist(), strict=True))


def test_lines_are_numbered_from_one_and_blank_lines_are_no_records():
    data = b'{"a": 1}\n\n   \t\n{"b": 2}\n'
    assert _lines(data) == [(1, '{"a": 1}'), (4, '{"b": 2}')]


def test_windows_line_ends_and_surrounding_whitespace_are_trimmed():
    data = b'  {"a": 1}  \r\n\t{"b": "x y"}\r\n{"c": 3}'
    assert _lines(data) == [(1, '{"a": 1}'), (2, '{"b": "x y"}'), (3, '{"c": 3}')]


def test_short_and_long_lines_keep_every_byte():
    long = '{"name": "' + "é" * 40 + '"}'
    data = ("x\n12345678901\n123456789012\n1234567890123\n" + long).encode()
    assert [line for _, line in _lines(data)] == [
        "x",
        "12345678901",
        "123456789012",
        "1234567890123",
        long,
    ]


def test_an_empty_file_has_no_lines():
    assert _lines(b"") == [] and _lines(b"\n\n") == []


def test_a_byte_order_mark_is_dropped_and_bad_utf8_is_named():
    assert decode_bytes(b"\xef\xbb\xbf{}\n", compressed=False) == b"{}\n"
    with pytest.raises(UnreadableFile, match="byte 0xff at offset 3"):
        decode_bytes(b"{}\n\xff", compressed=False)


@pytest.mark.parametrize(
    "bad",
    [b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xe2\x82"],
    ids=["surrogate", "overlong", "beyond U+10FFFF", "cut short"],
)
def test_what_strict_utf8_forbids_is_refused(bad):
    with pytest.raises(UnreadableFile, match="at offset 1 is invalid"):
        decode_bytes(b"x" + bad + b"\n", compressed=False)
    assert decode_bytes("x \u20ac \U0001f600\n".encode(), compressed=False)


def test_files_too_large_for_string_views_split_the_same_way():
    # Beyond 2 GB a view's offset overflows; that path copies the text but finds the same lines.
    data = b'  {"a": 1}  \r\n\r\n\t{"b": "x y"}\n' + b"z" * 20 + b"\n\n"
    copied = _json_lines_copied(data)
    assert copied["record_number"].to_pylist() == json_lines(data)["record_number"].to_pylist()
    assert copied["line"].to_pylist() == json_lines(data)["line"].to_pylist()
