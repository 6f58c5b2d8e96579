"""The console's pages and assets. Pages carry no data: their scripts fetch it from /v1 with the visitor's key."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from api.auth import MaybePrincipal
from api.ui.i18n import LANGUAGES, MESSAGES, pick_language

HERE = Path(__file__).parent
STATIC_URL = "/ui/static"
LANG_COOKIE = "sift_lang"

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")


def install_console(app: FastAPI) -> None:
    """Mount the console's pages and its static files on ``app``."""
    app.include_router(router)
    app.mount(STATIC_URL, StaticFiles(directory=HERE / "static"), name="console-static")


def _page(request: Request, template: str, **context) -> HTMLResponse:
    """Render a page in the visitor's language; ``?lang=`` switches it and is remembered in a cookie."""
    asked = request.query_params.get("lang")
    lang = pick_language(asked or request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    response = templates.TemplateResponse(request, template, {
        "lang": lang, "languages": LANGUAGES, "t": MESSAGES[lang], "static": STATIC_URL,
        "version": request.app.version, **context,
    })
    if asked in LANGUAGES:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 24 * 3600, samesite="lax")
    return response


@router.get("/")
async def home(_: MaybePrincipal) -> Response:
    return RedirectResponse("/ui/rerank")


@router.get("/ui/rerank")
async def rerank_page(request: Request, _: MaybePrincipal) -> HTMLResponse:
    return _page(request, "rerank.html", page="rerank")


@router.get("/ui/ask")
async def ask_page(request: Request, _: MaybePrincipal) -> HTMLResponse:
    return _page(request, "ask.html", page="ask")


@router.get("/ui/kb")
async def collections_page(request: Request, _: MaybePrincipal) -> HTMLResponse:
    return _page(request, "collections.html", page="kb")


@router.get("/ui/kb/{collection}")
async def collection_page(request: Request, collection: str, _: MaybePrincipal) -> HTMLResponse:
    return _page(request, "collection.html", page="kb", collection=collection)


@router.get("/ui/kb/{collection}/document")
async def document_page(request: Request, collection: str, id: str, _: MaybePrincipal) -> HTMLResponse:
    return _page(request, "document.html", page="kb", collection=collection, doc_id=id)


@router.get("/ui/status")
async def status_page(request: Request, _: MaybePrincipal) -> HTMLResponse:
    return _page(request, "status.html", page="status")
