"""Where documents come from: files, folders (recursively) and HTTP(S) URLs."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

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
    """True for the suffixes Sift parses, also gzip-compressed (``page.html.gz``)."""
    name = path.name.lower().removesuffix(".gz")
    return Path(name).suffix in CONTENT_TYPES_BY_SUFFIX


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


def read_file(path: Path, *, max_bytes: int, base: Path | None = None) -> Source:
    """A file's bytes (gunzipped for ``.gz``), named by its path relative to ``base``."""
    name = str(path.relative_to(base)) if base and path.is_relative_to(base) else path.name
    compressed = path.suffix.lower() == ".gz"
    try:
        with (gzip.open if compressed else open)(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except (OSError, EOFError) as exc:
        raise IngestError(f"cannot read {path}: {exc}") from exc
    name = name.removesuffix(".gz") if compressed else name
    if len(data) > max_bytes:
        raise DocumentTooLarge(f"{path} is larger than {max_bytes} bytes (SIFT_MAX_UPLOAD_BYTES)")
    return Source(name=name, data=data)


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
