"""Bytes to text, and text hygiene: encoding detection, binary rejection, Unicode and whitespace rules.

Two forms of text: ``normalize_text`` gives what is stored, returned and cited (the author's characters,
only invisible and layout noise removed); ``fold_text`` gives what is indexed and scored (NFKC: full-width
letters, digits and punctuation as their ASCII forms, compatibility characters expanded).
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from ingest.errors import BinaryContent

# Signatures of binary formats that may not show NUL or control bytes early; ASCII-looking signatures
# ("MZ", "RIFF", "ID3", ...) are left to the NUL/control-byte test so that a text starting with them passes.
_MAGIC = (
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"\xff\xd8\xff",  # JPEG
    b"%PDF-",
    b"PK\x03\x04",  # zip, docx, xlsx, jar
    b"\x1f\x8b",  # gzip
    b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\x7fELF",
    b"\xca\xfe\xba\xbe",
    b"\xcf\xfa\xed\xfe",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # OLE2: .doc, .xls, .msi
    b"SQLite format 3\x00",
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Labels mapped to the superset codec browsers use for them (WHATWG Encoding Standard).
_SUPERSETS = {
    "ascii": "cp1252",
    "latin_1": "cp1252",
    "iso8859_1": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "tis_620": "cp874",
    "iso8859_11": "cp874",
    "iso8859_9": "cp1254",
}
_SINGLE_BYTE_WESTERN = {"cp1252", "latin_1", "iso8859_1", "iso8859_15", "ascii"}
_SAMPLE = 8192
_HIGH_RUNS = re.compile(rb"[\x80-\xff]+")
_WESTERN = frozenset(
    "".join(chr(c) for c in range(0xC0, 0x100) if c not in (0xD7, 0xF7))
    + "\u00a0¡¢£¤¥§¨©ª«¬®¯°±²³´µ¶·¸¹º»¼½¾¿\u2018\u2019\u201a\u201c\u201d\u201e\u2013\u2014\u2026\u20ac"
    "\u2022\u2122\u0152\u0153\u0160\u0161\u017d\u017e\u0178\u2020\u2021\u2030\u2039\u203a\u02c6\u02dc"
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_.:-]+)""",
    re.IGNORECASE,
)
_CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 12, 13, 27})
_ZERO_WIDTH = "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
_LINE_SEPARATORS = "\u2028\u2029\u0085"
_CONTROL_CHARS = "".join(chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), *range(127, 160)])
_DELETE = str.maketrans("", "", _ZERO_WIDTH + _CONTROL_CHARS)
# form feeds and ANSI escapes occur in real text files
_STRIP_CONTROLS = str.maketrans("", "", _CONTROL_CHARS.replace("\x0c", "").replace("\x1b", ""))
_TO_NEWLINE = str.maketrans({c: "\n" for c in _LINE_SEPARATORS + "\r"})
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_LIST_ITEM = re.compile(r"(?:[-*+]|\d{1,9}[.)]) ")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def is_probably_binary(data: bytes) -> bool:
    """Whether ``data`` looks like a binary file (known signature, NUL bytes, many control bytes)."""
    if not data:
        return False
    if _bom_encoding(data) or _utf16_without_bom(data):
        return False
    if data.startswith(_MAGIC):
        return True
    sample = data[:_SAMPLE]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls / len(sample) > 0.05


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode document bytes: BOM, then ``declared`` charset, then ``<meta>``, then UTF-8, then detection.

    Raises ``BinaryContent`` when the bytes are not text.
    """
    if is_probably_binary(data):
        raise BinaryContent("the content is binary data, not text")
    bom = _bom_encoding(data)
    if bom:
        encoding, data = bom
        return _checked(data.decode(encoding, errors="replace"))
    utf16 = _utf16_without_bom(data)
    if utf16:
        return _checked(data.decode(utf16, errors="replace"))
    for candidate in (_codec(declared), _codec(_meta_charset(data))):
        if candidate is None or candidate.startswith(("utf_16", "utf_32")):
            continue  # a byte-oriented document cannot really be UTF-16: browsers use UTF-8 here too
        if candidate in _SINGLE_BYTE_WESTERN and _is_utf8(data):
            return _checked(data.decode("utf-8"))  # a server default mislabelling UTF-8, by far the likelier
        text = _decode(data, candidate)
        if text is not None:
            return _checked(text)
    if _is_utf8(data):
        return _checked(data.decode("utf-8"))
    if _looks_western(data):
        return _checked(_decode(data, "cp1252") or data.decode("latin-1"))
    return _checked(_detect(data))


def normalize_text(text: str, *, keep_newlines: bool = True) -> str:
    """Display-safe cleanup: NFC, zero-width and control characters removed, whitespace collapsed outside
    ``` code fences. Full-width and compatibility characters stay as written (see ``fold_text``)."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").translate(_TO_NEWLINE)).translate(_DELETE)
    if "```" not in text and "~~~" not in text:
        return _collapse(text.split("\n"), keep_newlines)
    segments: list[str] = []
    lines: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        marker = _FENCE.match(line)
        if fence is None and marker:
            segments.append(_collapse(lines, keep_newlines))
            fence, lines = marker.group(1), [line.strip()]
        elif fence is not None and marker and marker.group(1) == fence and not line.strip().strip(fence[0]):
            segments.append(_code(lines, fence))
            fence, lines = None, []
        else:
            lines.append(line)
    segments.append(_code(lines, fence) if fence is not None else _collapse(lines, keep_newlines))
    return "\n\n".join(segment for segment in segments if segment)


def fold_text(text: str) -> str:
    """The form of ``text`` that is indexed and scored (embedder, lexical terms, reranker): NFKC, so that
    ``ＶＰＮ（设置）`` and ``VPN(设置)`` read the same."""
    return unicodedata.normalize("NFKC", text)


def _collapse(lines: list[str], keep_newlines: bool) -> str:
    """Prose: runs of spaces to one, lines stripped, at most one blank line between blocks."""
    if not keep_newlines:
        return " ".join(" ".join(lines).split())
    text = "\n".join(_collapse_line(line) for line in lines)
    return _BLANK_LINES.sub("\n\n", text).strip("\n")


def _collapse_line(line: str) -> str:
    """One prose line with inner whitespace collapsed; a nested list item keeps its indentation."""
    collapsed = _SPACES.sub(" ", line).strip()
    if line[:1] in " \t" and _LIST_ITEM.match(collapsed):
        indent = len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())
        return " " * min(indent, 16) + collapsed
    return collapsed


def _code(lines: list[str], fence: str) -> str:
    """A fenced block kept verbatim except trailing spaces; a fence left open is closed."""
    body = [line.rstrip() for line in lines[1:]]
    while body and not body[-1]:
        body.pop()
    while body and not body[0]:
        body.pop(0)
    if not body:
        return ""
    return "\n".join([lines[0], *body, fence])


def _bom_encoding(data: bytes) -> tuple[str, bytes] | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, data[len(bom) :]
    return None


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a BOM, recognised by NUL bytes falling on one parity only (mostly-ASCII text)."""
    sample = data[: min(len(data), _SAMPLE) // 2 * 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    zeros_even, zeros_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if zeros_odd > 0.3 and zeros_even < 0.02:
        encoding = "utf-16-le"
    elif zeros_even > 0.3 and zeros_odd < 0.02:
        encoding = "utf-16-be"
    else:
        return None
    try:
        sample.decode(encoding)
    except UnicodeDecodeError:
        return None
    return encoding


def _codec(label: str | None) -> str | None:
    """Python's codec name for a charset label, widened to the superset browsers use; None if unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in ("x-user-defined", "x-sjis"):
        label = "cp1252" if label == "x-user-defined" else "shift_jis"
    try:
        name = codecs.lookup(label).name.replace("-", "_")
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def _meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:_SAMPLE])
    if not match:
        return None
    return (match.group(1) or match.group(2)).decode("ascii")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode(data: bytes, encoding: str) -> str | None:
    """Decode strictly; tolerate a few bad bytes (truncation, stray bytes) but not a wrong charset."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        pass
    except LookupError:
        return None
    text = data.decode(encoding, errors="replace")
    if text.count("\ufffd") <= max(2, len(text) // 1000):
        return text
    if encoding == "cp1252":
        return data.decode("latin-1")  # bytes cp1252 leaves undefined are still Latin-1
    return None


def _looks_western(data: bytes) -> bool:
    """Latin-1/Windows-1252: a few accented letters inside ASCII words (statistical detectors misjudge it)."""
    sample = data[:_SAMPLE]
    if max((len(run) for run in _HIGH_RUNS.findall(sample)), default=0) > 2:
        return False  # CJK and Cyrillic single-byte text come in longer runs of high bytes
    text = sample.decode("cp1252", errors="replace")
    high = [ch for ch in text if ord(ch) > 127]
    if not high or not all(ch in _WESTERN for ch in high):
        return False
    letters = sum(ch.isalpha() for ch in text)
    return sum(ch.isalpha() for ch in high) <= 0.3 * letters


def _detect(data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise BinaryContent("the content is not text in any supported encoding")
    encoding = _SUPERSETS.get(best.encoding, best.encoding)
    return _decode(data, encoding) or str(best)


def _checked(text: str) -> str:
    """Reject decoded text that is still mostly control characters."""
    sample = text[:_SAMPLE]
    if not sample:
        return text
    bad = len(sample) - len(sample.translate(_STRIP_CONTROLS))
    if bad / len(sample) > 0.05 or sample.count("\ufffd") / len(sample) > 0.2:
        raise BinaryContent("the content is binary data, not text")
    return text
