"""The ``sift`` command line. It calls the same service functions as the HTTP API, and talks to the
running server over HTTP when one is up (only one process may open the embedded store).

Each module adds its commands to ``base.app``: ``serve``, ``admin`` (keys, collections), ``documents``
(ingest, reembed, clean), ``search`` (query, eval) and ``sources`` (sync, sources).
"""

from __future__ import annotations

import sys
import traceback

import typer

from api.cli import admin, documents, search, serve, sources  # noqa: F401 - they register their commands
from api.cli.base import app
from api.settings import get_settings


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
