"""`sift serve`: the HTTP API, optionally with the sample knowledge base."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from api.cli.base import app, configure_logging
from api.cli.documents import ingest_locally
from api.settings import get_settings

SAMPLE_KB = Path(__file__).resolve().parents[1] / "sample_kb"


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
    configure_logging(settings)
    keys = KeyStore(settings.data_dir / "keys.sqlite3")
    refusal = check_bind(settings, keys, host or settings.host)
    keys.close()
    if refusal:
        typer.echo(refusal, err=True)
        raise typer.Exit(2)
    sift = Sift(settings)
    sift.start()
    if ingest_sample and not sift.index.collections():
        results = ingest_locally(sift, [str(SAMPLE_KB)], "default")
        typer.echo(f"ingested the sample knowledge base: {len(results)} documents into 'default'")
    try:
        uvicorn.run(create_app(settings, sift=sift), host=host or settings.host, port=port or settings.port,
                    log_level=settings.log_level)
    finally:
        asyncio.run(sift.close())
