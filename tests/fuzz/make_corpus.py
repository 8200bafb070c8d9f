#!/usr/bin/env python3
"""Writes the committed seed corpus of the fuzz targets: tests/fuzz/corpus/<target>/<name>.

Run it after changing a target's input layout (see the comment at the top of each
fuzz_*.cpp); the files it writes are committed, and the fuzzers only read them.
"""
import pathlib
import shutil
import struct

HERE = pathlib.Path(__file__).resolve().parent

STREAM, EOF, LINE, LENGTH, FIXED = range(5)


def framers_input(mode, max_bytes, stream, parameter=0, delimiter=b"", split=0x07):
    """fuzz_framers' layout: mode, maxMessageBytes - 1, parameter, [delimiter], split, stream."""
    assert 1 <= max_bytes <= 4096
    if mode == LINE:
        assert 1 <= len(delimiter) <= 16
        parameter = len(delimiter) - 1
    header = struct.pack(">BHH", mode, max_bytes - 1, parameter)
    return header + delimiter + bytes([split]) + stream


def length_message(header_bytes, payload):
    return struct.pack(">H" if header_bytes == 2 else ">I", len(payload)) + payload


FRAMERS = {
    # stream: every chunk is echoed as it is
    "stream_hello": framers_input(STREAM, 4096, b"hello\n"),
    "stream_binary_1byte_chunks": framers_input(STREAM, 16, bytes(range(256)), split=0x00),
    "stream_utf8": framers_input(STREAM, 64, "héllo wörld 漢字 😀\n".encode()),
    # eof: everything until the half-close
    "eof_empty": framers_input(EOF, 100, b""),
    "eof_small": framers_input(EOF, 16, b"hello world"),
    "eof_exactly_max": framers_input(EOF, 10, b"0123456789", split=0x02),
    "eof_too_large": framers_input(EOF, 8, b"0123456789", split=0x01),
    # line: delimiter of 1 to 16 bytes
    "line_lf": framers_input(LINE, 64, b"one\ntwo\n\nthree\n", delimiter=b"\n"),
    "line_crlf_http": framers_input(
        LINE, 64, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", delimiter=b"\r\n", split=0x00),
    "line_crlf_split": framers_input(
        LINE, 16, b"a\rb\r\r\nc\r\n\r", delimiter=b"\r\n", split=0x01),
    "line_nul": framers_input(LINE, 8, b"abc\0def\0\0", delimiter=b"\0"),
    "line_self_overlapping": framers_input(
        LINE, 32, b"xaaab aab aaaab aa", delimiter=b"aab", split=0x02),
    "line_long_delimiter": framers_input(
        LINE, 128, b"head--boundary--1234body--boundary--1234--boundary--12",
        delimiter=b"--boundary--1234", split=0x03),
    "line_exactly_max": framers_input(LINE, 4, b"abcd\nabcde\n", delimiter=b"\n"),
    "line_too_large_no_delimiter": framers_input(
        LINE, 4, b"abcdefgh", delimiter=b"\r\n", split=0x01),
    "line_unfinished": framers_input(LINE, 64, b"done\npartial\r", delimiter=b"\r\n"),
    # length: big-endian header of 2 or 4 bytes
    "length2_two_messages": framers_input(
        LENGTH, 100, length_message(2, b"hello") + length_message(2, b"abc"), parameter=0),
    "length2_empty_payloads": framers_input(
        LENGTH, 100, length_message(2, b"") * 3 + length_message(2, b"x"), parameter=0,
        split=0x00),
    "length4_hello": framers_input(
        LENGTH, 100, length_message(4, b"hello") + length_message(4, b""), parameter=1,
        split=0x01),
    "length4_0xffffffff": framers_input(
        LENGTH, 4096, b"\xff\xff\xff\xff" + b"payload", parameter=1),
    "length2_max_then_too_large": framers_input(
        LENGTH, 16, length_message(2, bytes(16)) + length_message(2, bytes(17)), parameter=0,
        split=0x04),
    "length4_partial_header": framers_input(
        LENGTH, 64, length_message(4, b"abc") + b"\x00\x00", parameter=1, split=0x00),
    # fixed: blocks of N bytes
    "fixed4": framers_input(FIXED, 64, b"abcdefghij", parameter=3),
    "fixed1": framers_input(FIXED, 64, b"xyz", parameter=0, split=0x00),
    "fixed_max": framers_input(FIXED, 8, bytes(range(20)), parameter=7, split=0x02),
}

TEXTESCAPE = {
    "ascii": b"hello world",
    "crlf_lines": b"line 1\r\nline 2\r\n\ttabbed\n",
    "nul_and_c_escapes": b'a\0b\\c"d\te',
    "ansi_clear_and_colour": b"\x1b[2J\x1b[31mred\x1b[0m",
    "osc_window_title": b"\x1b]0;title\x07",
    "c1_csi_and_nel": b"\xc2\x9b31m\xc2\x85",
    "bidi_override_isolate": "abc\u202e\u2066def\u2069\u200f".encode(),
    "invisible": "a\u200bb\ufeffc\u00add\U000e0001".encode(),
    "byte_order_mark_first": "\ufeffabc".encode(),
    "line_separator": "one\u2028two\u2029".encode(),
    "private_use": "\ue000\U000f0000".encode(),
    "utf8": "café 漢字 😀 ñ".encode(),
    "invalid_utf8": b"\xff\xfe\xc0\xaf\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80\xf8\x88\x80\x80\x80",
    "truncated_sequence": b"\xe6\xbc",
    "truncated_then_ascii": b"\xe6\xbcabc\xf0\x9f\x98",
    "lone_continuations": b"\x80\xbf\x80",
    # escapeText reads the input as UTF-16 (big-endian pairs): lone and paired surrogates
    "utf16_surrogates": b"\xd8\x3d\xde\x00\xd8\x00\x00\x41\xdc\x00",
    "del_and_bell": b"\x7f\x07\x08",
    "binary_256": bytes(range(256)),
    "hexdump_16": b"0123456789abcdef",
    "hexdump_17": b"0123456789abcdefg",
    # first bytes choose escapeBytes' maxBytes (byte 0) and hexDump's firstOffset (1, 2)
    "max_cuts_emoji": b"\x03\x00" + "😀😀".encode(),
    "offset_near_64k": b"\x20\x05\x01" + bytes(range(40)),
}


def write(target, seeds):
    directory = HERE / "corpus" / target
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    for name, data in seeds.items():
        (directory / name).write_bytes(data)


if __name__ == "__main__":
    write("fuzz_framers", FRAMERS)
    write("fuzz_textescape", TEXTESCAPE)
