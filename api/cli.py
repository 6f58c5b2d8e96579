"""The ``sift`` command line. It calls the same service functions as the HTTP API, and talks to the
running server over HTTP when one is up (only one process may open the embedded store)."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from tqdm import tqdm

from api.settings import Settings, get_settings

app = typer.Typer(help="Sift: knowledge-base retrieval with Qdrant and a Qwen3 reranker.", no_args_is_help=True)

SAMPLE_KB = Path(__file__).parent / "sample_kb"
UPLOAD_BATCH = 16


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _running_server(settings: Settings) -> str | None:
    """The URL of a Sift server that answers /health, if any."""
    try:
        response = httpx.get(f"{settings.server_url}/health", timeout=2.0)
        return settings.server_url if response.status_code == 200 else None
    except httpx.HTTPError:
        return None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default SIFT_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default SIFT_PORT).")] = None,
    ingest_sample: Annotated[bool, typer.Option(help="Ingest the bundled sample knowledge base if empty.")] = False,
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from api.app import create_app
    from api.service import Sift

    settings = get_settings()
    _configure_logging(settings)
    sift = Sift(settings)
    sift.start()
    if ingest_sample and not sift.index.collections():
        results = _ingest_locally(sift, [str(SAMPLE_KB)], "default")
        typer.echo(f"ingested the sample knowledge base: {len(results)} documents into 'default'")
    try:
        uvicorn.run(create_app(settings, sift=sift), host=host or settings.host, port=port or settings.port,
                    log_level=settings.log_level)
    finally:
        asyncio.run(sift.close())


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
    _configure_logging(settings)
    try:
        targets = expand_paths(paths)
    except IngestError as exc:
        raise typer.BadParameter(str(exc)) from None
    describe = _Describer(url_prefix, _key_values(metadata or []))
    if not targets:
        raise typer.BadParameter("no supported files found (.html, .htm, .md, .txt, optionally .gz)")
    server = _running_server(settings)
    if server:
        results = _ingest_remotely(server, targets, collection, settings, describe)
    else:
        from api.service import Sift

        sift = Sift(settings)
        sift.start()
        try:
            results = _ingest_locally(sift, paths, collection, describe)  # folders keep relative names
        finally:
            asyncio.run(sift.close())
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
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


def _ingest_locally(sift, paths: list[str], collection: str, describe: _Describer | None = None) -> list[dict]:
    from ingest.sources import expand_paths

    describe = describe or _Describer()
    targets = expand_paths(paths)
    results = []
    with tqdm(total=len(targets), desc="ingest", unit="doc", file=sys.stderr) as progress:
        for start in range(0, len(targets), UPLOAD_BATCH):
            batch = list(_read_targets(targets[start:start + UPLOAD_BATCH], sift.settings))
            items = [describe.item(s) for s in batch]
            for result in sift.ingest(collection, items):
                results.append({"id": result.doc_id, "status": result.status, "chunks": result.chunks})
            progress.update(len(targets[start:start + UPLOAD_BATCH]))
    return results


def _ingest_remotely(server: str, targets, collection: str, settings: Settings, describe: _Describer) -> list[dict]:
    """Upload in batches as background jobs, then follow the jobs with a progress bar.

    Each file's url and metadata go as form fields ``url`` and ``metadata`` (JSON), one of each per file,
    in the order of the files."""
    job_ids = []
    with httpx.Client(base_url=server, timeout=600.0) as client:
        for start in range(0, len(targets), UPLOAD_BATCH):
            batch = list(_read_targets(targets[start:start + UPLOAD_BATCH], settings))
            files = [("files", (s.name, s.data, s.content_type or "application/octet-stream")) for s in batch]
            fields = {"url": [describe.url(s) or "" for s in batch],
                      "metadata": [json.dumps(describe.metadata, ensure_ascii=False)] * len(batch)}
            response = client.post(f"/v1/collections/{collection}/documents", params={"async": "true"},
                                   files=files, data=fields)
            if response.status_code >= 400:
                raise typer.Exit(_fail(response))
            job_ids.append(response.json()["job_id"])
        jobs = _follow_jobs(client, job_ids, total=len(targets))
    for job in jobs:
        for error in job["errors"]:
            typer.echo(f"{error['file']}: {error['error']}", err=True)
        if job["error"]:
            typer.echo(f"job {job['id']} failed: {job['error']}", err=True)
    return [d for job in jobs for d in job["documents"]] + [
        {"id": e["file"], "status": "failed"} for job in jobs for e in job["errors"]]


def _follow_jobs(client: httpx.Client, job_ids: list[str], *, total: int) -> list[dict]:
    with tqdm(total=total, desc="ingest", unit="doc", file=sys.stderr) as progress:
        while True:
            jobs = [client.get(f"/v1/jobs/{job_id}").json() for job_id in job_ids]
            progress.total = sum(job["files"]["total"] for job in jobs)  # archives hold several documents
            finished = sum(job["files"]["done"] + job["files"]["failed"] for job in jobs)
            progress.update(finished - progress.n)
            if all(job["state"] in ("done", "failed") for job in jobs):
                return jobs
            time.sleep(0.5)


def _fail(response: httpx.Response) -> int:
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError):
        message = response.text
    typer.echo(f"error {response.status_code}: {message}", err=True)
    return 1


@app.command()
def query(
    question: Annotated[str, typer.Argument(help="The question.")],
    collection: Annotated[str, typer.Option("--collection", "-c")] = "default",
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=100)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole response as JSON.")] = False,
) -> None:
    """Ask a question; prints the cited answer context."""
    settings = get_settings()
    _configure_logging(settings)
    body = {"question": question, "collection": collection, "top_k": top_k}
    server = _running_server(settings)
    if server:
        response = httpx.post(f"{server}/v1/query", json=body, timeout=120.0)
        if response.status_code >= 400:
            raise typer.Exit(_fail(response))
        payload = response.json()
    else:
        from api.schemas import QueryIn, QueryOut
        from api.service import Sift

        request = QueryIn(**body)
        sift = Sift(settings)
        sift.start()
        try:
            answer = asyncio.run(sift.answer(request.question, collection=request.collection, top_k=request.top_k))
        finally:
            asyncio.run(sift.close())
        payload = QueryOut.from_answer(answer).model_dump()
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if not payload["reranked"]:
        typer.echo(f"(retrieval order: {payload.get('rerank_error') or 'not reranked'})", err=True)
    typer.echo(payload["context"])


@app.command("eval")
def eval_dataset(
    dataset: Annotated[Path, typer.Argument(help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv.")],
    mode: Annotated[str, typer.Option(help="dense, lexical, hybrid or all.")] = "all",
    rerank: Annotated[bool, typer.Option("--rerank", help="Also rerank each mode's candidates.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print {mode: metrics} as JSON.")] = False,
) -> None:
    """Measure nDCG@10, Recall@50, MRR@10 and latency on a BEIR dataset through the real pipeline."""
    from api.evaluation import evaluate, format_table, load_beir
    from retrieval.index import SEARCH_MODES

    modes = SEARCH_MODES if mode == "all" else (mode,)
    if any(m not in SEARCH_MODES for m in modes):
        raise typer.BadParameter(f"--mode must be dense, lexical, hybrid or all, not {mode!r}")
    try:
        data = load_beir(dataset)
    except FileNotFoundError as exc:
        raise typer.BadParameter(str(exc)) from None
    settings = get_settings()
    _configure_logging(settings.model_copy(update={"log_level": "warning"}))
    bars: dict[str, tqdm] = {}

    def progress(label: str, done: int, total: int) -> None:
        bar = bars.setdefault(label, tqdm(total=total, desc=label, unit="q" if label != "ingest" else "doc",
                                          file=sys.stderr, leave=False))
        bar.update(done - bar.n)

    results = evaluate(settings, data, modes=modes, rerank=rerank, progress=progress)
    for bar in bars.values():
        bar.close()
    if as_json:
        typer.echo(json.dumps({m: {k: v for k, v in r.items() if k != "queries"} for m, r in results.items()}))
    else:
        typer.echo(f"{data.name}: {len(data.corpus)} documents, {len(data.queries)} queries")
        typer.echo(format_table(data.name, results))


@app.command()
def clean(
    paths: Annotated[list[Path], typer.Argument(help="HTML, Markdown or text files (.gz too).")],
    out: Annotated[Path | None, typer.Option(help="Write one NAME.txt per input into this folder.")] = None,
) -> None:
    """Print (or write) the cleaned text of each file."""
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
            documents = [load_document(s.data, doc_id=s.name, name=s.name) for s in sources]
        except IngestError as exc:
            typer.echo(f"{path}: {exc}", err=True)
            failed += 1
            continue
        for source, document in zip(sources, documents, strict=True):
            if out:
                stem = Path(source.name).name
                for suffix in (".html", ".htm"):
                    stem = stem.removesuffix(suffix)
                (out / f"{stem}.txt").write_text(document.text + "\n", encoding="utf-8")
            else:
                typer.echo(document.text)
    if failed:
        raise typer.Exit(1)


def main() -> None:
    """Console-script entry point; settings errors stop here with a readable message."""
    from api.settings import SettingsError

    try:
        app()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
