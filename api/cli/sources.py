"""`sift sync` and `sift sources`: help-centre sources, over HTTP when a server runs, else in-process."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from tqdm import tqdm

from api.cli.base import app, configure_logging, fail, running_server, server_client
from api.settings import Settings, get_settings

if TYPE_CHECKING:
    from api.client import SiftClient


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
    configure_logging(settings)
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
    configure_logging(settings)
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
        self.server = running_server(settings)
        self._client = server_client(settings, timeout=120.0) if self.server else None
        self._sift = None
        if self._client is None:
            from api.service import Sift

            self._sift = Sift(settings)
            self._sift.start()

    def __enter__(self) -> _Sources:
        return self

    def __exit__(self, *_) -> None:
        if self._client is not None:
            self._client.close()
        if self._sift is not None:
            asyncio.run(self._sift.close())

    def _remote(self, call: Callable[[SiftClient], Any]) -> Any:
        """``call`` on the running server's client; a refusal is said plainly and ends the command."""
        from api.client import SiftAPIError

        try:
            return call(self._client)
        except SiftAPIError as exc:
            raise typer.Exit(fail(exc)) from None

    def add(self, collection: str, body: dict) -> dict:
        if self._client is not None:
            return self._remote(lambda client: client.add_source(collection, **body)).model_dump()
        from api.routes.sources import source_out
        from api.schemas_helpdesk import SourceIn

        request = SourceIn(**body)
        source = self._sift.sync.add_source(collection, request.url, include=request.include,
                                            exclude=request.exclude, interval=request.interval,
                                            max_pages=request.max_pages, run=request.run)
        return source_out(self._sift, source).model_dump()

    def list(self, collection: str) -> list[dict]:
        if self._client is not None:
            return self._remote(lambda client: client.sources(collection)).model_dump()["sources"]
        from api.routes.sources import source_out

        return [source_out(self._sift, s).model_dump() for s in self._sift.sync.store.sources(collection)]

    def run(self, collection: str, source_id: str) -> str:
        if self._client is not None:
            return self._remote(lambda client: client.run_source(collection, source_id)).run_id
        self._sift.sync.store.source(collection, source_id)
        return self._sift.sync.submit(source_id)

    def remove(self, collection: str, source_id: str, delete_documents: bool) -> None:
        if self._client is not None:
            self._remote(lambda client: client.remove_source(collection, source_id,
                                                             delete_documents=delete_documents))
            return
        self._sift.sync.remove_source(collection, source_id, delete_documents=delete_documents)

    def get_run(self, collection: str, source_id: str, run_id: str) -> dict:
        if self._client is not None:
            return self._remote(lambda client: client.sync_run(collection, source_id, run_id)).model_dump()
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
