"""Where documents come from: files, folders (recursively) and HTTP(S) URLs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.archives import InflateBudget, gunzip, zip_members
from ingest.errors import DocumentTooLarge, IngestError
from ingest.loaders import CONTENT_TYPES_BY_SUFFIX


@dataclass(frozen=True, slots=True)
class Source:
    """Raw bytes of one document and the name it is known by (a relative path or a URL)."""

    name: str
    data: bytes
    content_type: str | None = None
    url: str | None = None


def is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def is_supported_file(path: Path) -> bool:
    """True for the suffixes Sift parses, gzip-compressed ones (``page.html.gz``) and zip archives."""
    name = path.name.lower().removesuffix(".gz")
    return Path(name).suffix in CONTENT_TYPES_BY_SUFFIX or name.endswith(".zip")


def unpack(name: str, data: bytes, *, max_bytes: int, max_files: int,
           budget: InflateBudget | None = None) -> list[Source]:
    """The documents inside an upload: a ``.gz`` file is gunzipped, a ``.zip`` archive gives its
    supported members (one level: archives inside archives are refused); anything else is itself.

    Each document may inflate to ``max_bytes``; an archive may hold ``max_files`` entries; all
    archives of one request share ``budget`` (by default, this one file alone).
    """
    budget = budget or InflateBudget(max_bytes * max_files)
    lowered = name.lower()
    if lowered.endswith(".gz"):
        return [Source(name=name[:-3], data=gunzip(name, data, max_bytes=max_bytes, budget=budget))]
    if not lowered.endswith(".zip"):
        return [Source(name=name, data=data)]

    def wanted(member: str) -> bool:
        member = member.lower()
        if member.endswith((".zip", ".gz")):
            raise IngestError(f"{name!r} holds archives ({member}); nested archives are not unpacked")
        return Path(member).suffix in CONTENT_TYPES_BY_SUFFIX

    members = zip_members(name, data, max_members=max_files, max_bytes=max_bytes, budget=budget, accept=wanted,
                          members_setting="SIFT_MAX_FILES_PER_REQUEST")
    if not members:
        raise IngestError(f"{name!r} holds no supported documents")
    return [Source(name=f"{name}/{member.name}", data=member.data) for member in members]


def expand_paths(targets: Iterable[str]) -> list[tuple[str, Path | None]]:
    """Each URL or file as given, each folder as its supported files (sorted, recursive),
    paired with the folder they were found in (None for URLs and files named directly)."""
    out: list[tuple[str, Path | None]] = []
    for target in targets:
        path = Path(target)
        if is_url(target) or path.is_file():
            out.append((target, None))
        elif path.is_dir():
            out.extend((str(p), path) for p in sorted(path.rglob("*")) if p.is_file() and is_supported_file(p))
        else:
            raise IngestError(f"{target!r} is neither a file, a folder nor an http(s) URL")
    return out


def read_file(path: Path, *, max_bytes: int, max_files: int, base: Path | None = None) -> list[Source]:
    """The documents of one file (one, or an archive's members), named by the path relative to ``base``."""
    name = str(path.relative_to(base)) if base and path.is_relative_to(base) else path.name
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise IngestError(f"cannot read {path}: {exc}") from exc
    if len(data) > max_bytes:
        raise DocumentTooLarge(f"{path} is larger than {max_bytes} bytes (SIFT_MAX_UPLOAD_BYTES)")
    return unpack(name, data, max_bytes=max_bytes, max_files=max_files)


def fetch_url(url: str, *, max_bytes: int, timeout_s: float = 30.0) -> Source:
    """Download one page; its Content-Type decides how it is parsed."""
    import httpx

    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=timeout_s) as response:
            response.raise_for_status()
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise DocumentTooLarge(f"{url} is larger than {max_bytes} bytes (SIFT_MAX_UPLOAD_BYTES)")
                chunks.append(chunk)
            content_type = response.headers.get("content-type")
    except httpx.HTTPError as exc:
        raise IngestError(f"cannot fetch {url}: {exc}") from exc
    return Source(name=url, data=b"".join(chunks), content_type=content_type, url=url)
