"""`sift ingest`, `sift reembed` and `sift clean`: documents into the store, and what the cleaner keeps."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from api.cli.base import app, configure_logging, fail, running_server, server_client
from api.settings import Settings, get_settings

UPLOAD_BATCH = 16


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files, folders or http(s) URLs.")],
    collection: Annotated[str, typer.Option("--collection", "-c")] = "default",
    url_prefix: Annotated[str | None, typer.Option(
        help="Public URL of the folder: a file's url is this joined with its path (e.g. https://help.example.com/)."
    )] = None,
    metadata: Annotated[list[str] | None, typer.Option(
        "--metadata", "-m", help="KEY=VALUE on every document (repeatable); filter with metadata.KEY.")] = None,
) -> None:
    """Ingest documents (through the running server if one is up, else in-process)."""
    from ingest.errors import IngestError
    from ingest.sources import expand_paths

    settings = get_settings()
    configure_logging(settings)
    try:
        targets = expand_paths(paths)
    except IngestError as exc:
        raise typer.BadParameter(str(exc)) from None
    describe = _Describer(url_prefix, _key_values(metadata or []))
    if not targets:
        raise typer.BadParameter("no supported files found (.html, .htm, .md, .txt, optionally .gz)")
    server = running_server(settings)
    if server:
        results = _ingest_remotely(server, targets, collection, settings, describe)
    else:
        from api.service import Sift

        sift = Sift(settings)
        sift.start()
        try:
            results = ingest_locally(sift, paths, collection, describe)  # folders keep relative names
        finally:
            asyncio.run(sift.close())
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
        for warning in result.get("warnings", ()):
            typer.echo(f"{result['id']}: warning: {warning}", err=True)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    typer.echo(f"{len(results)} documents into {collection!r} ({summary})" + (f" via {server}" if server else ""))
    if counts.get("failed"):
        raise typer.Exit(1)


def _key_values(pairs: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` options as a mapping; a pair without ``=`` or with an empty key is refused."""
    found = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"--metadata takes KEY=VALUE, not {pair!r}")
        found[key.strip()] = value
    return found


class _Describer:
    """The url and metadata the CLI gives each document: ``--url-prefix`` joined with its path, ``--metadata``."""

    def __init__(self, url_prefix: str | None = None, metadata: dict[str, str] | None = None) -> None:
        self.url_prefix = url_prefix.rstrip("/") + "/" if url_prefix else None
        self.metadata = metadata or {}

    def url(self, source) -> str | None:
        """A fetched page's own URL, else the prefix joined with the file's path (relative to its folder)."""
        from urllib.parse import quote

        if source.url or not self.url_prefix:
            return source.url
        return self.url_prefix + quote(source.name.replace("\\", "/"))

    def item(self, source):
        from api.ingestion import IngestItem

        return IngestItem(content=source.data, name=source.name, content_type=source.content_type,
                          url=self.url(source), metadata=self.metadata)


def _read_targets(targets, settings: Settings):
    from ingest.sources import fetch_url, is_url, read_file

    for target, base in targets:
        if is_url(target):
            yield fetch_url(target, max_bytes=settings.max_upload_bytes)
        else:
            yield from read_file(Path(target), max_bytes=settings.max_upload_bytes,
                                 max_files=settings.max_files_per_request, base=base)


def ingest_locally(sift, paths: list[str], collection: str, describe: _Describer | None = None) -> list[dict]:
    from ingest.sources import expand_paths

    describe = describe or _Describer()
    targets = expand_paths(paths)
    results = []
    with tqdm(total=len(targets), desc="ingest", unit="doc", file=sys.stderr) as progress:
        for start in range(0, len(targets), UPLOAD_BATCH):
            batch = list(_read_targets(targets[start:start + UPLOAD_BATCH], sift.settings))
            items = [describe.item(s) for s in batch]
            for result in sift.ingest(collection, items):
                results.append({"id": result.doc_id, "status": result.status, "chunks": result.chunks,
                                "warnings": result.warnings})
            progress.update(len(targets[start:start + UPLOAD_BATCH]))
    return results


def _ingest_remotely(server: str, targets, collection: str, settings: Settings, describe: _Describer) -> list[dict]:
    """Upload in batches as background jobs (each file with its url and the metadata), then follow the jobs
    with a progress bar."""
    from api.client import SiftAPIError

    job_ids = []
    with server_client(settings) as client:
        try:
            for start in range(0, len(targets), UPLOAD_BATCH):
                batch = list(_read_targets(targets[start:start + UPLOAD_BATCH], settings))
                accepted = client.upload(collection, [(s.name, s.data, s.content_type) for s in batch],
                                         background=True, urls=[describe.url(s) for s in batch],
                                         metadata=describe.metadata)
                job_ids.append(accepted.job_id)
            jobs = _follow_jobs(client, job_ids, total=len(targets))
        except SiftAPIError as exc:
            raise typer.Exit(fail(exc)) from None
    for job in jobs:
        for error in job.errors:
            typer.echo(f"{error.file}: {error.error}", err=True)
        if job.error:
            typer.echo(f"job {job.id} failed: {job.error}", err=True)
    return [d.model_dump() for job in jobs for d in job.documents] + [
        {"id": e.file, "status": "failed"} for job in jobs for e in job.errors]


def _follow_jobs(client, job_ids: list[str], *, total: int) -> list:
    with tqdm(total=total, desc="ingest", unit="doc", file=sys.stderr) as progress:
        while True:
            jobs = [client.job(job_id) for job_id in job_ids]
            progress.total = sum(job.files.total for job in jobs)  # archives hold several documents
            finished = sum(job.files.done + job.files.failed for job in jobs)
            progress.update(finished - progress.n)
            if all(job.state in ("done", "failed") for job in jobs):
                return jobs
            time.sleep(0.5)


@app.command()
def reembed() -> None:
    """Re-embed collections that another embedding model made, with SIFT_EMBED_MODEL (server stopped)."""
    from api.service import Sift

    settings = get_settings()
    configure_logging(settings)
    if running_server(settings):
        raise typer.BadParameter(f"stop the server at {settings.server_url} first: it holds the store")
    sift = Sift(settings)
    sift.start(allow_other_models=True)
    bars: dict[str, tqdm] = {}

    def progress(name: str, done: int, total: int) -> None:
        bar = bars.setdefault(name, tqdm(total=total, desc=name, unit="chunk", file=sys.stderr))
        bar.update(done - bar.n)

    try:
        done = sift.reembed(progress)
    finally:
        for bar in bars.values():
            bar.close()
        asyncio.run(sift.close())
    summary = ", ".join(f"{name} ({n} chunks)" for name, n in done.items()) or "nothing to do"
    typer.echo(f"re-embedded with {sift.embedder.model_id}: {summary}")


@app.command()
def clean(
    paths: Annotated[list[Path], typer.Argument(help="HTML, Markdown or text files (.gz too).")],
    out: Annotated[Path | None, typer.Option(help="Write one NAME.txt per input into this folder.")] = None,
    explain: Annotated[bool, typer.Option("--explain", help="List each block left out of an HTML page and why, "
                                                            "instead of the text.")] = False,
) -> None:
    """Print (or write) the cleaned text of each file; warnings about left-out content go to stderr."""
    from ingest.errors import IngestError
    from ingest.loaders import load_document
    from ingest.sources import read_file

    settings = get_settings()
    if out:
        out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in tqdm(paths, desc="clean", unit="file", file=sys.stderr, disable=out is None or len(paths) < 2):
        try:
            sources = read_file(path, max_bytes=settings.max_upload_bytes, max_files=settings.max_files_per_request)
            if explain:
                for source in sources:
                    typer.echo(_explain(source.name, source.data))
                continue
            documents = [load_document(s.data, doc_id=s.name, name=s.name) for s in sources]
        except IngestError as exc:
            typer.echo(f"{path}: {exc}", err=True)
            failed += 1
            continue
        for source, document in zip(sources, documents, strict=True):
            for warning in document.warnings:
                typer.echo(f"{source.name}: warning: {warning}", err=True)
            if out:
                stem = Path(source.name).name
                for suffix in (".html", ".htm"):
                    stem = stem.removesuffix(suffix)
                (out / f"{stem}.txt").write_text(document.text + "\n", encoding="utf-8")
            else:
                typer.echo(document.text)
    if failed:
        raise typer.Exit(1)


def _explain(name: str, data: bytes) -> str:
    """Each block the HTML cleaner left out of one file, with the reason, then its warnings."""
    from ingest.html import clean_html
    from ingest.loaders import HTML, resolve_content_type

    if resolve_content_type(name) != HTML:
        return f"{name}: not HTML; nothing is left out of Markdown or text"
    page = clean_html(data, explain=True)
    lines = [f"{name}: {len(page.dropped)} blocks left out"]
    for block in page.dropped:
        text = " ".join(block.text.split())
        lines.append(f"  [{block.reason}] {block.kind}: {text[:117] + '...' if len(text) > 120 else text}")
    lines += [f"  warning: {warning}" for warning in page.warnings]
    return "\n".join(lines)
