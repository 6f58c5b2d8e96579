"""API keys through the real app: every route against every kind of caller, and the open-server rules."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import KeyStore, Scope
from tests.conftest import SAMPLE_KB

HOME = "kb-home"
OTHER = "kb-other"
DOC = "data-export.md"


@dataclass(frozen=True)
class Keys:
    admin: str
    query: str
    write: str
    metrics: str
    other_collection: str
    revoked: str
    expired: str


@pytest.fixture(scope="module")
def secured(sift, tmp_path_factory) -> Iterator[tuple[TestClient, Keys]]:
    """The shared service behind an app whose key store has keys (so keys are required)."""
    app = create_app(sift=sift)
    app.state.keys.close()
    app.state.keys = store = KeyStore(tmp_path_factory.mktemp("keys") / "keys.sqlite3")
    made = {
        "admin": store.create(name="ops", scopes={Scope.ADMIN}),
        "query": store.create(name="bot", scopes={Scope.QUERY}, collections={HOME}),
        "write": store.create(name="importer", scopes={Scope.WRITE}, collections={HOME}),
        "metrics": store.create(name="prometheus", scopes={Scope.METRICS}),
        "other_collection": store.create(name="other", scopes={Scope.QUERY, Scope.WRITE}, collections={OTHER}),
        "revoked": store.create(name="old", scopes={Scope.ADMIN}),
        "expired": store.create(name="temp", scopes={Scope.ADMIN}, expires_in_s=0.01),
    }
    store.revoke(made["revoked"][0].id)
    time.sleep(0.05)
    keys = Keys(**{role: secret for role, (_, secret) in made.items()})
    with TestClient(app, base_url="http://sift.internal") as client:
        for collection in (HOME, OTHER):
            response = client.post(f"/v1/collections/{collection}/documents", headers=_bearer(keys.admin),
                                   files=[("files", (DOC, (SAMPLE_KB / DOC).read_bytes(), "text/markdown"))])
            assert response.status_code == 200, response.text
        yield client, keys


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


# Every route with the scope it needs and a request that is valid for the HOME collection.
ROUTES = [
    ("GET", "/v1/whoami", None, None),  # any valid key
    ("GET", "/v1/collections", Scope.QUERY, None),
    ("POST", "/v1/collections", Scope.WRITE, {"json": {"name": HOME}}),
    ("DELETE", "/v1/collections/kb-doomed", Scope.ADMIN, None),
    ("GET", f"/v1/collections/{HOME}/documents/{DOC}/chunks", Scope.QUERY, None),
    ("PATCH", f"/v1/collections/{HOME}", Scope.ADMIN, {"json": {"instruction": "Find the help page"}}),
    ("GET", f"/v1/collections/{HOME}/documents", Scope.QUERY, None),
    ("GET", f"/v1/collections/{HOME}/documents/{DOC}", Scope.QUERY, None),
    ("POST", f"/v1/collections/{HOME}/documents", Scope.WRITE,
     {"json": {"documents": [{"id": "note", "content": "VPN note: reconnect after sleep."}]}}),
    ("DELETE", f"/v1/collections/{HOME}/documents/note", Scope.WRITE, None),
    ("GET", "/v1/jobs/unknown-job", Scope.WRITE, None),
    ("POST", "/v1/query", Scope.QUERY, {"json": {"question": "export my data", "collection": HOME}}),
    ("POST", "/v1/rerank", Scope.QUERY, {"json": {"query": "export", "documents": ["a", "b"]}}),
    ("POST", f"/v1/collections/{HOME}/sources", Scope.WRITE,
     {"json": {"url": "http://127.0.0.1:9/help/", "run": False}}),
    ("GET", f"/v1/collections/{HOME}/sources", Scope.WRITE, None),
    ("GET", f"/v1/collections/{HOME}/sources/nosuch", Scope.WRITE, None),
    ("POST", f"/v1/collections/{HOME}/sources/nosuch/runs", Scope.WRITE, None),
    ("GET", f"/v1/collections/{HOME}/sources/nosuch/runs/nosuch", Scope.WRITE, None),
    ("DELETE", f"/v1/collections/{HOME}/sources/nosuch", Scope.WRITE, None),
    ("POST", "/v1/tickets/suggest", Scope.QUERY,
     {"json": {"subject": "Export", "body": "How do I export my data?", "collection": HOME}}),
    ("POST", "/v2/rerank", Scope.QUERY, {"json": {"model": "m", "query": "export", "documents": ["a", "b"]}}),
    ("POST", "/rerank", Scope.QUERY, {"json": {"query": "export", "texts": ["a", "b"]}}),
    ("GET", "/info", Scope.QUERY, None),
    ("GET", "/metrics", Scope.METRICS, None),
    ("GET", "/v1/keys", Scope.ADMIN, None),
    ("POST", "/v1/keys", Scope.ADMIN, {"json": {"name": "made-by-test", "scopes": ["query"]}}),
    ("DELETE", "/v1/keys/000000000000", Scope.ADMIN, None),
]


# Routes that authenticate otherwise, or answer in another protocol's error shape, each with the test that
# proves it; and the routes anyone may call.
OWN_RULES = {
    ("POST", "/v1/webhooks/tickets/{integration}"),  # HMAC signature: tests/api/test_tickets.py
    ("POST", "/retrieval"),  # Dify's error codes for keys (1001/1002, 403): tests/api/test_dify.py
}
PUBLIC = {"/health", "/livez", "/readyz", "/", "/docs", "/docs/oauth2-redirect", "/redoc"}  # pages hold no data


def test_every_api_route_is_in_the_matrix(client):
    app_routes = {(method, route.path) for route in client.app.routes if isinstance(route, APIRoute)
                  for method in route.methods
                  if route.path not in PUBLIC and not route.path.startswith("/ui")} - OWN_RULES
    listed = {(method, _template(path)) for method, path, _, _ in ROUTES}
    assert app_routes == listed, f"routes without an auth test: {app_routes - listed}"


def _template(path: str) -> str:
    return (path.replace(f"/{HOME}", "/{collection}").replace("/kb-doomed", "/{collection}")
            .replace(f"/documents/{DOC}", "/documents/{doc_id}")
            .replace("/documents/note", "/documents/{doc_id}").replace("{doc_id}", "{doc_id:doc_id}")
            .replace("{doc_id:doc_id}/chunks", "{doc_id:path}/chunks")
            .replace("/unknown-job", "/{job_id}")
            .replace("/000000000000", "/{key_id}")
            .replace("/runs/nosuch", "/runs/{run_id}")
            .replace("/sources/nosuch", "/sources/{source_id}"))


def _call(client: TestClient, method: str, path: str, options, headers: dict[str, str]):
    return client.request(method, path, headers=headers, **(options or {}))


@pytest.mark.parametrize(("method", "path", "scope", "options"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_route_refuses_callers_without_a_valid_key(secured, method, path, scope, options):
    client, keys = secured
    for headers, reason in [({}, "requires an API key"), (_bearer("sift_000000000000_" + "x" * 43), "not valid"),
                            ({"X-API-Key": "wrong"}, "not valid"), (_bearer(keys.revoked), "revoked"),
                            (_bearer(keys.expired), "expired")]:
        response = _call(client, method, path, options, headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert reason in response.json()["error"]["message"]


@pytest.mark.parametrize(("method", "path", "scope", "options"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_route_checks_scope_and_collection(secured, method, path, scope, options):
    client, keys = secured
    if scope is None:
        for secret in (keys.query, keys.write, keys.other_collection, keys.admin):
            assert _call(client, method, path, options, _bearer(secret)).status_code == 200
        return
    holder = {Scope.QUERY: keys.query, Scope.WRITE: keys.write, Scope.METRICS: keys.metrics,
              Scope.ADMIN: keys.admin}[scope]
    lacking = keys.write if scope == Scope.QUERY else keys.query
    response = _call(client, method, path, options, _bearer(lacking))
    assert response.status_code == 403 and repr(scope.value) in response.json()["error"]["message"], response.text
    if scope != Scope.ADMIN and HOME in path + str(options):
        response = _call(client, method, path, options, _bearer(keys.other_collection))
        assert response.status_code == 403, response.text
        assert HOME in response.json()["error"]["message"]
    for secret in (holder, keys.admin):
        response = _call(client, method, path, options, {"X-API-Key": secret})
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500 or response.json()["error"]["code"] == "reranker_not_configured"


def test_listing_collections_shows_only_the_keys_collections(secured):
    client, keys = secured
    names = {c["name"] for c in client.get("/v1/collections", headers=_bearer(keys.query)).json()["collections"]}
    assert names == {HOME}
    names = {c["name"] for c in client.get("/v1/collections", headers=_bearer(keys.admin)).json()["collections"]}
    assert {HOME, OTHER} <= names


def test_keys_over_http_secret_once_revocation_at_once(secured):
    client, keys = secured
    admin = _bearer(keys.admin)
    created = client.post("/v1/keys", headers=admin,
                          json={"name": "helpdesk", "scopes": ["query"], "collections": [HOME], "expires_in": "90d"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("sift_") and body["expires_at"] > time.time() + 89 * 86400
    listed = client.get("/v1/keys", headers=admin).json()["keys"]
    assert body["secret"] not in str(listed)
    assert any(k["id"] == body["id"] and k["collections"] == [HOME] for k in listed)
    question = {"question": "export", "collection": HOME}
    assert client.post("/v1/query", json=question, headers=_bearer(body["secret"])).status_code == 200
    assert client.delete(f"/v1/keys/{body['id']}", headers=admin).json()["active"] is False
    refused = client.post("/v1/query", json=question, headers=_bearer(body["secret"]))
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]["message"]


@pytest.mark.parametrize("lifetime", ["0d", "00h", "100000w"])
def test_a_key_lifetime_out_of_range_is_refused(secured, lifetime):
    client, keys = secured
    response = client.post("/v1/keys", headers=_bearer(keys.admin),
                           json={"name": "x", "scopes": ["query"], "expires_in": lifetime})
    assert response.status_code == 422 and "expires_in" in response.json()["error"]["message"]


def test_health_needs_no_key_and_hides_internals_without_admin(secured, sift):
    client, keys = secured
    public = client.get("/health")
    assert public.status_code == 200 and public.json()["auth"] == "keys"
    assert str(sift.settings.data_dir) not in public.text and "embedded:" not in public.text
    detailed = client.get("/health", headers=_bearer(keys.admin)).json()
    assert detailed["store"]["location"].startswith("embedded:")


def test_openapi_declares_both_key_schemes(client):
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert {scheme["type"] for scheme in schemes.values()} == {"http", "apiKey"}
