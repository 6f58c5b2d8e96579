"""The ``sift`` command line. It calls the same service functions as the HTTP API, and talks to the
running server over HTTP when one is up (only one process may open the embedded store)."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
import traceback
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


def _auth_headers(settings: Settings) -> dict[str, str]:
    """The CLI's key (``SIFT_API_KEY``) for a server that requires one, for calls the client does not cover."""
    return {"Authorization": f"Bearer {settings.api_key.get_secret_value()}"} if settings.api_key else {}


def _client(settings: Settings, *, timeout: float = 600.0):
    """The typed client for the server at ``SIFT_API_URL``, with the CLI's key (``SIFT_API_KEY``)."""
    from api.client import SiftClient

    return SiftClient(settings.server_url, timeout=timeout,
                      api_key=settings.api_key.get_secret_value() if settings.api_key else None)


def _running_server(settings: Settings) -> str | None:
    """The URL of a Sift server that answers /health, if any."""
    from api.client import SiftAPIError

    try:
        with _client(settings, timeout=2.0) as client:
            client.health()
        return settings.server_url
    except (httpx.HTTPError, SiftAPIError, ValueError):
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
    from api.auth import check_bind
    from api.keys import KeyStore
    from api.service import Sift

    settings = get_settings()
    _configure_logging(settings)
    keys = KeyStore(settings.data_dir / "keys.sqlite3")
    refusal = check_bind(settings, keys, host or settings.host)
    keys.close()
    if refusal:
        typer.echo(refusal, err=True)
        raise typer.Exit(2)
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


keys_app = typer.Typer(help="API keys: create, list, revoke (works on the data folder, server running or not).",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _key_store():
    from api.keys import KeyStore

    settings = get_settings()
    return KeyStore(settings.data_dir / "keys.sqlite3")


@keys_app.command("create")
def keys_create(
    scope: Annotated[list[str], typer.Option("--scope", "-s", help="query, write or admin (repeatable).")],
    name: Annotated[str, typer.Option("--name", "-n", help="Who or what uses the key.")],
    collection: Annotated[list[str] | None, typer.Option(
        "--collection", "-c", help="A collection the key may use (repeatable); default: every collection.")] = None,
    expires: Annotated[str | None, typer.Option(help="Lifetime such as 90d, 12h or 2w; default: never.")] = None,
) -> None:
    """Create a key and print its secret (shown this once only)."""
    from api.keys import Scope, parse_duration

    try:
        scopes = {Scope(s) for s in scope}
        expires_in = parse_duration(expires) if expires else None
    except ValueError as exc:
        message = str(exc).replace("is not a valid Scope", "is not a scope: use query, write or admin")
        raise typer.BadParameter(message) from None
    store = _key_store()
    try:
        key, secret = store.create(name=name, scopes=scopes, collections=set(collection) if collection else None,
                                   expires_in_s=expires_in)
    finally:
        store.close()
    typer.echo(f"created key {key.id} ({key.name}): scopes {', '.join(sorted(key.scopes))}; collections "
               f"{', '.join(sorted(key.collections)) if key.collections else 'all'}", err=True)
    typer.echo("the secret below is shown once; send it as 'Authorization: Bearer <secret>'", err=True)
    typer.echo(secret)


@keys_app.command("list")
def keys_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every key (never a secret), revoked and expired ones included."""
    from api.routes.keys import key_out

    store = _key_store()
    try:
        keys = [key_out(k).model_dump() for k in store.list()]
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(keys, indent=2))
        return
    for k in keys:
        state = "active" if k["active"] else "revoked" if k["revoked_at"] else "expired"
        expires = time.strftime("%Y-%m-%d", time.gmtime(k["expires_at"])) if k["expires_at"] else "never"
        typer.echo(f"{k['id']}  {k['name']:<20} {','.join(k['scopes']):<18} "
                   f"{','.join(k['collections']) if k['collections'] is not None else '*':<20} "
                   f"expires {expires:<10} {state}")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (from `sift keys list`).")]) -> None:
    """Revoke a key; the server refuses it from its next request on."""
    from api.keys import UnknownKey

    store = _key_store()
    try:
        key = store.revoke(key_id)
    except UnknownKey as exc:
        raise typer.BadParameter(str(exc)) from None
    finally:
        store.close()
    typer.echo(f"revoked key {key.id} ({key.name})")


collections_app = typer.Typer(help="Collections: list, create, delete (through the running server if one is up).",
                              no_args_is_help=True)
app.add_typer(collections_app, name="collections")


def _collections_call(method: str, path: str, body: dict | None = None) -> dict:
    """``method path`` of /v1/collections on the running server, or the same service call in-process."""
    settings = get_settings()
    _configure_logging(settings)
    server = _running_server(settings)
    if server:
        response = httpx.request(method, f"{server}/v1/collections{path}", json=body, timeout=600.0,
                                 headers=_auth_headers(settings))
        if response.status_code >= 400:
            raise typer.Exit(_fail(response))
        return response.json()
    from api.routes.documents import collection_out
    from api.service import Sift
    from retrieval.errors import RetrievalError

    sift = Sift(settings)
    sift.start()
    try:
        if method == "GET":
            return {"collections": [collection_out(c).model_dump() for c in sift.index.collections()]}
        if method == "POST":
            return collection_out(sift.index.create_collection(body["name"], body.get("instruction"))).model_dump()
        name = path.lstrip("/")
        return {"name": name, "documents": sift.index.delete_collection(name)}
    except RetrievalError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        asyncio.run(sift.close())


@collections_app.command("list")
def collections_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every collection with its document count and rerank instruction."""
    collections = _collections_call("GET", "")["collections"]
    if as_json:
        typer.echo(json.dumps(collections, ensure_ascii=False, indent=2))
        return
    for c in collections:
        typer.echo(f"{c['name']:<24} {c['documents']:>7} documents  {c['instruction'] or ''}")


@collections_app.command("create")
def collections_create(
    name: Annotated[str, typer.Argument(help="The new collection's name.")],
    instruction: Annotated[str | None, typer.Option(help="Its default rerank instruction.")] = None,
) -> None:
    """Create an empty collection."""
    from api.schemas import CollectionIn

    try:
        body = CollectionIn(name=name, instruction=instruction).model_dump()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    created = _collections_call("POST", "", body)
    typer.echo(f"created collection {created['name']!r}")


@collections_app.command("delete")
def collections_delete(
    name: Annotated[str, typer.Argument(help="The collection to delete with all its documents.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a collection and every document and chunk in it."""
    if not yes:
        typer.confirm(f"Delete the collection {name!r} and all its documents?", abort=True)
    deleted = _collections_call("DELETE", f"/{name}")
    typer.echo(f"deleted collection {deleted['name']!r} ({deleted['documents']} documents)")


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
                results.append({"id": result.doc_id, "status": result.status, "chunks": result.chunks,
                                "warnings": result.warnings})
            progress.update(len(targets[start:start + UPLOAD_BATCH]))
    return results


def _ingest_remotely(server: str, targets, collection: str, settings: Settings, describe: _Describer) -> list[dict]:
    """Upload in batches as background jobs (each file with its url and the metadata), then follow the jobs
    with a progress bar."""
    from api.client import SiftAPIError

    job_ids = []
    with _client(settings) as client:
        try:
            for start in range(0, len(targets), UPLOAD_BATCH):
                batch = list(_read_targets(targets[start:start + UPLOAD_BATCH], settings))
                accepted = client.upload(collection, [(s.name, s.data, s.content_type) for s in batch],
                                         background=True, urls=[describe.url(s) for s in batch],
                                         metadata=describe.metadata)
                job_ids.append(accepted.job_id)
            jobs = _follow_jobs(client, job_ids, total=len(targets))
        except SiftAPIError as exc:
            raise typer.Exit(_fail(exc)) from None
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


def _fail(error) -> int:
    """Say what the server refused (a ``SiftAPIError``); the exit status."""
    typer.echo(f"error {error.status}: {error.message}", err=True)
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
        from api.client import SiftAPIError

        with _client(settings, timeout=120.0) as client:
            try:
                payload = client.query(question, collection=collection, top_k=top_k).model_dump()
            except SiftAPIError as exc:
                raise typer.Exit(_fail(exc)) from None
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


@app.command()
def reembed() -> None:
    """Re-embed collections that another embedding model made, with SIFT_EMBED_MODEL (server stopped)."""
    from api.service import Sift

    settings = get_settings()
    _configure_logging(settings)
    if _running_server(settings):
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


@app.command()
def sync(
    url: Annotated[str, typer.Argument(help="The help centre's start URL (its sitemaps are found from there).")],
    collection: Annotated[str, typer.Option("--collection", "-c")] = "default",
    include: Annotated[list[str] | None, typer.Option("--include", help="Path glob to sync (repeatable).")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="Path glob to skip (repeatable).")] = None,
    interval: Annotated[str | None, typer.Option(help="Sync again this often (e.g. 6h, 1d) while a server runs.")
                        ] = None,
    max_pages: Annotated[int | None, typer.Option(min=1, help="Page cap (default SIFT_SYNC_MAX_PAGES).")] = None,
) -> None:
    """Register a help centre as a source of the collection and sync it now (through the running server if up)."""
    settings = get_settings()
    _configure_logging(settings)
    body = {"url": url, "include": include or [], "exclude": exclude or [], "interval": interval,
            "max_pages": max_pages}
    with _Sources(settings) as sources:
        source = sources.add(collection, body)
        run = sources.follow(collection, source["id"], source["last_run"]["id"])
    _print_run(run)
    if interval and not sources.server:
        typer.echo(f"source {source['id']} syncs every {interval} while `sift serve` runs", err=True)
    if run["state"] == "failed" or run["errors"]:
        raise typer.Exit(1)


sources_app = typer.Typer(help="Help-centre sources of a collection: list, run now, remove.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")


@sources_app.command("list")
def sources_list(collection: Annotated[str, typer.Option("--collection", "-c")] = "default",
                 as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The collection's sources with their last run's counts and errors."""
    settings = get_settings()
    with _Sources(settings) as sources:
        listed = sources.list(collection)
    if as_json:
        typer.echo(json.dumps(listed, indent=2, ensure_ascii=False))
        return
    for source in listed:
        every = f"every {source['interval_s']:.0f}s" if source["interval_s"] else "on demand"
        typer.echo(f"{source['id']}  {source['url']}  ({every})")
        if source["last_run"]:
            _print_run(source["last_run"], indent="    ")


@sources_app.command("run")
def sources_run(source_id: Annotated[str, typer.Argument(help="The source's id (from `sift sources list`).")],
                collection: Annotated[str, typer.Option("--collection", "-c")] = "default") -> None:
    """Sync a source now and wait for the run."""
    settings = get_settings()
    _configure_logging(settings)
    with _Sources(settings) as sources:
        run = sources.follow(collection, source_id, sources.run(collection, source_id))
    _print_run(run)
    if run["state"] == "failed" or run["errors"]:
        raise typer.Exit(1)


@sources_app.command("remove")
def sources_remove(source_id: Annotated[str, typer.Argument(help="The source's id.")],
                   collection: Annotated[str, typer.Option("--collection", "-c")] = "default",
                   delete_documents: Annotated[bool, typer.Option(help="Also delete its documents.")] = False) -> None:
    """Stop syncing a source."""
    with _Sources(get_settings()) as sources:
        sources.remove(collection, source_id, delete_documents)
    typer.echo(f"removed source {source_id}")


class _Sources:
    """Sync sources over HTTP when a server runs, else on an in-process service (same routes' functions)."""

    def __init__(self, settings: Settings) -> None:
        self.server = _running_server(settings)
        self._http = httpx.Client(base_url=self.server, timeout=120.0, headers=_auth_headers(settings)) \
            if self.server else None
        self._sift = None
        if self._http is None:
            from api.service import Sift

            self._sift = Sift(settings)
            self._sift.start()

    def __enter__(self) -> _Sources:
        return self

    def __exit__(self, *_) -> None:
        if self._http is not None:
            self._http.close()
        if self._sift is not None:
            asyncio.run(self._sift.close())

    def _call(self, method: str, path: str, **kwargs) -> dict | None:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise typer.Exit(_fail(response))
        return response.json() if response.content else None

    def add(self, collection: str, body: dict) -> dict:
        if self._http is not None:
            return self._call("POST", f"/v1/collections/{collection}/sources", json=body)
        from api.keys import parse_duration
        from api.routes.sources import source_out
        from api.schemas_helpdesk import SourceIn

        request = SourceIn(**body)
        settings = self._sift.settings
        source = self._sift.sync.store.add_source(
            collection, request.url, include=request.include, exclude=request.exclude,
            max_pages=min(request.max_pages or settings.sync_max_pages, settings.sync_max_pages),
            interval_s=parse_duration(request.interval) if request.interval else None)
        self._sift.sync.submit(source.id)
        return source_out(self._sift, source).model_dump()

    def list(self, collection: str) -> list[dict]:
        if self._http is not None:
            return self._call("GET", f"/v1/collections/{collection}/sources")["sources"]
        from api.routes.sources import source_out

        return [source_out(self._sift, s).model_dump() for s in self._sift.sync.store.sources(collection)]

    def run(self, collection: str, source_id: str) -> str:
        if self._http is not None:
            return self._call("POST", f"/v1/collections/{collection}/sources/{source_id}/runs")["run_id"]
        self._sift.sync.store.source(collection, source_id)
        return self._sift.sync.submit(source_id)

    def remove(self, collection: str, source_id: str, delete_documents: bool) -> None:
        if self._http is not None:
            self._call("DELETE", f"/v1/collections/{collection}/sources/{source_id}",
                       params={"delete_documents": str(delete_documents).lower()})
            return
        for doc_id in self._sift.sync.store.remove_source(collection, source_id):
            if delete_documents and self._sift.index.catalog.document(collection, doc_id) is not None:
                self._sift.index.delete_document(collection, doc_id)

    def get_run(self, collection: str, source_id: str, run_id: str) -> dict:
        if self._http is not None:
            return self._call("GET", f"/v1/collections/{collection}/sources/{source_id}/runs/{run_id}")
        return self._sift.sync.store.run(run_id)

    def follow(self, collection: str, source_id: str, run_id: str) -> dict:
        """Wait for the run, with a progress bar over the pages it found."""
        with tqdm(desc="sync", unit="page", file=sys.stderr) as progress:
            while True:
                run = self.get_run(collection, source_id, run_id)
                progress.total = run["pages_total"] or None
                progress.update(run["pages_done"] - progress.n)
                if run["state"] in ("done", "failed"):
                    return run
                time.sleep(0.5)


def _print_run(run: dict, indent: str = "") -> None:
    counts = ", ".join(f"{n} {status}" for status, n in run["counts"].items() if n)
    typer.echo(f"{indent}run {run['id'][:12]} {run['state']} via {run['via'] or '-'}: {counts or 'nothing'}")
    for change in run["changes"]:
        typer.echo(f"{indent}  {change['status']:<10} {change['url']}")
    for error in run["errors"]:
        typer.echo(f"{indent}  failed     {error['url']}: {error['error']}", err=True)
    if run["error"]:
        typer.echo(f"{indent}  {run['error']}", err=True)


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


def main() -> None:
    """Console-script entry point; settings and start-up errors stop here with a readable message.

    A start-up error (a model that cannot load, a store or collection made by another model) prints
    one line; its traceback only with ``SIFT_LOG_LEVEL=debug``.
    """
    from api.settings import SettingsError
    from ingest.errors import EmbedderUnavailable
    from retrieval.errors import EmbedderMismatch, StoreIncompatible

    try:
        app()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        sys.exit(2)
    except (EmbedderUnavailable, EmbedderMismatch, StoreIncompatible) as exc:
        if get_settings().log_level == "debug":
            traceback.print_exception(exc)
        typer.echo(f"sift: cannot start: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
