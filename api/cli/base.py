"""What every ``sift`` command shares: the Typer app, logging, and the way to the running server."""

from __future__ import annotations

import logging

import httpx
import typer

from api.settings import Settings

app = typer.Typer(help="Sift: knowledge-base retrieval with Qdrant and a Qwen3 reranker.", no_args_is_help=True)


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def server_client(settings: Settings, *, timeout: float = 600.0):
    """The typed client for the server at ``SIFT_API_URL``, with the CLI's key (``SIFT_API_KEY``)."""
    from api.client import SiftClient

    return SiftClient(settings.server_url, timeout=timeout,
                      api_key=settings.api_key.get_secret_value() if settings.api_key else None)


def running_server(settings: Settings) -> str | None:
    """The URL of a Sift server that answers /health, if any."""
    from api.client import SiftAPIError

    try:
        with server_client(settings, timeout=2.0) as client:
            client.health()
        return settings.server_url
    except (httpx.HTTPError, SiftAPIError, ValueError):
        return None


def fail(error) -> int:
    """Say what the server refused (a ``SiftAPIError``); the exit status."""
    typer.echo(f"error {error.status}: {error.message}", err=True)
    return 1
