"""`sift keys` (on the data folder) and `sift collections` (through the running server if one is up)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.base import app, configure_logging, fail, running_server, server_client
from api.settings import get_settings

if TYPE_CHECKING:
    from pydantic import BaseModel

    from api.client import SiftClient
    from api.service import Sift

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


def _on_collections(remote: Callable[[SiftClient], BaseModel], local: Callable[[Sift], BaseModel]) -> dict:
    """``remote(client)`` on the running server, else ``local(sift)`` on an in-process service; as a dict."""
    from api.client import SiftAPIError
    from api.service import Sift
    from retrieval.errors import RetrievalError

    settings = get_settings()
    configure_logging(settings)
    if running_server(settings):
        with server_client(settings) as client:
            try:
                return remote(client).model_dump()
            except SiftAPIError as exc:
                raise typer.Exit(fail(exc)) from None
    sift = Sift(settings)
    sift.start()
    try:
        return local(sift).model_dump()
    except RetrievalError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        asyncio.run(sift.close())


@collections_app.command("list")
def collections_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every collection with its document count and rerank instruction."""
    from api.routes.documents import collection_out
    from api.schemas import CollectionsOut

    collections = _on_collections(lambda client: client.collections(), lambda sift: CollectionsOut(
        collections=[collection_out(c) for c in sift.index.collections()]))["collections"]
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
    from api.routes.documents import collection_out
    from api.schemas import CollectionIn

    try:
        body = CollectionIn(name=name, instruction=instruction)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    created = _on_collections(
        lambda client: client.create_collection(body.name, instruction=body.instruction),
        lambda sift: collection_out(sift.index.create_collection(body.name, body.instruction)))
    typer.echo(f"created collection {created['name']!r}")


@collections_app.command("delete")
def collections_delete(
    name: Annotated[str, typer.Argument(help="The collection to delete with all its documents.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a collection and every document and chunk in it."""
    if not yes:
        typer.confirm(f"Delete the collection {name!r} and all its documents?", abort=True)
    from api.schemas import CollectionDeleted

    deleted = _on_collections(lambda client: client.delete_collection(name), lambda sift: CollectionDeleted(
        name=name, documents=sift.index.delete_collection(name)))
    typer.echo(f"deleted collection {deleted['name']!r} ({deleted['documents']} documents)")
