"""Inflating untrusted archives (zip, gzip, and the zip inside every DOCX) within limits.

Nothing in an archive's headers is trusted: member counts are checked before anything is
inflated, and every member is inflated in bounded reads that count against one ``InflateBudget``
per request, so a zip bomb, a header that lies about sizes or many archives in one request stop
at the limit. Every way a container can be broken becomes an ``IngestError`` naming the file.
"""

from __future__ import annotations

import gzip
import io
import lzma
import zipfile
import zlib
from dataclasses import dataclass

from ingest.errors import DocumentTooLarge, IngestError

# Compression methods the standard library inflates; others (deflate64, PPMd, …) are refused by name.
_SUPPORTED_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2",
                      zipfile.ZIP_LZMA: "lzma"}
_METHOD_NAMES = {9: "deflate64", 98: "PPMd", 99: "AES-encrypted", 93: "zstandard"}
_BROKEN = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError, RuntimeError,
           NotImplementedError)
_READ_SIZE = 1 << 20


class InflateBudget:
    """Bytes that may still be inflated for one request, across all of its archives and containers."""

    def __init__(self, max_bytes: int, setting: str = "SIFT_MAX_INFLATED_BYTES") -> None:
        self.max_bytes = max_bytes
        self.remaining = max_bytes
        self.setting = setting

    def take(self, size: int, name: str) -> None:
        self.remaining -= size
        if self.remaining < 0:
            raise DocumentTooLarge(f"{name!r}: the request's archives inflate to more than {self.max_bytes} bytes "
                                   f"({self.setting})")


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    data: bytes


def gunzip(name: str, data: bytes, *, max_bytes: int, budget: InflateBudget) -> bytes:
    """The inflated bytes of a gzip file, at most ``max_bytes`` (and what the budget allows)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
            return _read_bounded(handle, name, max_bytes=max_bytes, budget=budget)
    except DocumentTooLarge:
        raise
    except _BROKEN as exc:
        raise IngestError(f"{name!r} is not valid gzip: {exc}") from None


def zip_members(name: str, data: bytes, *, max_members: int, max_bytes: int, budget: InflateBudget,
                accept=lambda member_name: True, members_setting: str = "") -> list[Member]:
    """The inflated members of a zip archive that ``accept`` their name, each at most ``max_bytes``.

    More than ``max_members`` entries (of any kind) is refused before anything is inflated.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except _BROKEN as exc:
        raise IngestError(f"{name!r} is not a valid zip archive: {exc}") from None
    if len(entries) > max_members:
        raise DocumentTooLarge(f"{name!r} holds {len(entries)} entries; the limit is {max_members}"
                               + (f" ({members_setting})" if members_setting else ""))
    members = []
    for entry in entries:
        if entry.is_dir() or not accept(entry.filename):
            continue
        where = f"{name}/{entry.filename}"
        if entry.flag_bits & 0x1:
            raise IngestError(f"{where!r} is encrypted; Sift reads only unencrypted archives")
        if entry.compress_type not in _SUPPORTED_METHODS:
            method = _METHOD_NAMES.get(entry.compress_type, f"method {entry.compress_type}")
            raise IngestError(f"{where!r} uses {method} compression, which Sift cannot inflate; "
                              "re-create the archive with standard deflate")
        if entry.file_size > max_bytes:
            raise DocumentTooLarge(f"{where!r} decompresses to {entry.file_size} bytes; the limit is {max_bytes} "
                                   "(SIFT_MAX_UPLOAD_BYTES)")
        try:
            with archive.open(entry) as handle:
                content = _read_bounded(handle, where, max_bytes=max_bytes, budget=budget)
        except DocumentTooLarge:
            raise
        except _BROKEN as exc:
            raise IngestError(f"{where!r} cannot be read from the archive: {exc}") from None
        members.append(Member(entry.filename, content))
    return members


def _read_bounded(handle: io.BufferedIOBase, name: str, *, max_bytes: int, budget: InflateBudget) -> bytes:
    """Read to the end in bounded steps, never more than ``max_bytes`` or the budget allows."""
    parts, size = [], 0
    while True:
        part = handle.read(_READ_SIZE)
        if not part:
            return b"".join(parts)
        size += len(part)
        if size > max_bytes:
            raise DocumentTooLarge(f"{name!r} decompresses to more than {max_bytes} bytes (SIFT_MAX_UPLOAD_BYTES)")
        budget.take(len(part), name)
        parts.append(part)
