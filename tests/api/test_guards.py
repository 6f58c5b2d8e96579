"""Open-server rules, Host and Origin checks, CORS and per-key rate limits, through the real app."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import check_bind
from api.keys import KeyStore, Scope
from api.ratelimit import RateLimits
from api.settings import load_settings
from tests.conftest import REPO, point_count

NOTE = {"documents": [{"id": "note", "content": "A note that must not be written."}]}


def test_open_server_answers_only_to_loopback_hosts(client, collection, sift):
    before = point_count(sift)
    for host in ("evil.example", "evil.example:8000", "10.0.0.5"):
        response = client.post(f"/v1/collections/{collection}/documents", json=NOTE, headers={"Host": host})
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "host_not_allowed"
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        assert client.get("/health", headers={"Host": host}).status_code == 200
    assert point_count(sift) == before


def test_cross_site_writes_are_refused_and_nothing_is_stored(client, collection, sift):
    before = point_count(sift)
    files = [("files", ("page.html", b"<h1>Hi</h1><p>Planted text.</p>", "text/html"))]
    for origin in ("http://evil.example", "null", "http://localhost.evil.example"):
        response = client.post(f"/v1/collections/{collection}/documents", files=files, headers={"Origin": origin})
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "origin_not_allowed"
    assert point_count(sift) == before
    # Reading from a foreign page is not a write; same-origin writes (the web console) pass.
    assert client.get("/v1/collections", headers={"Origin": "http://evil.example"}).status_code == 200
    assert "access-control-allow-origin" not in client.get("/v1/collections",
                                                            headers={"Origin": "http://evil.example"}).headers
    response = client.post(f"/v1/collections/{collection}/documents", files=files,
                           headers={"Origin": "http://localhost"})
    assert response.status_code == 200, response.text


def test_allowed_origins_get_cors_headers(sift, collection, monkeypatch):
    monkeypatch.setattr(sift.settings, "cors_origins", ["https://helpdesk.example.com"])
    with TestClient(create_app(sift=sift), base_url="http://localhost") as client:
        preflight = client.options("/v1/query", headers={
            "Origin": "https://helpdesk.example.com", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://helpdesk.example.com"
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        response = client.post(f"/v1/collections/{collection}/documents", json=NOTE,
                               headers={"Origin": "https://helpdesk.example.com"})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://helpdesk.example.com"


def test_host_allow_list_setting(sift, monkeypatch):
    monkeypatch.setattr(sift.settings, "allowed_hosts", ["sift.example.com"])
    with TestClient(create_app(sift=sift), base_url="http://sift.example.com") as client:
        assert client.get("/health").status_code == 200
        assert client.get("/health", headers={"Host": "localhost"}).status_code == 400


def test_start_up_log_says_the_server_is_open(sift, caplog):
    with caplog.at_level(logging.WARNING), TestClient(create_app(sift=sift), base_url="http://localhost") as client:
        assert client.get("/health").json()["auth"] == "open"
    assert any(record.message.startswith("OPEN: no API keys") for record in caplog.records)


def test_serve_refuses_a_public_address_without_keys(tmp_path):
    env = {**os.environ, "SIFT_DATA_DIR": str(tmp_path), "SIFT_HOST": "0.0.0.0"}
    env.pop("SIFT_ADMIN_KEY", None)
    env.pop("SIFT_AUTH", None)
    result = subprocess.run([sys.executable, "-m", "api.cli", "serve"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert "refusing to serve on 0.0.0.0 without API keys" in result.stderr
    assert "sift keys create --scope admin" in result.stderr


def test_bind_rules(tmp_path):
    keys = KeyStore(tmp_path / "keys.sqlite3")
    settings = load_settings(data_dir=tmp_path, _env_file=None)
    assert check_bind(settings, keys, "127.0.0.1") is None and check_bind(settings, keys, "::1") is None
    assert "refusing" in check_bind(settings, keys, "0.0.0.0")
    assert check_bind(settings.model_copy(update={"auth": "off"}), keys, "0.0.0.0") is None
    admin = load_settings(data_dir=tmp_path, admin_key="a" * 40, _env_file=None)
    assert check_bind(admin, keys, "0.0.0.0") is None
    keys.create(name="ops", scopes={Scope.ADMIN})
    assert check_bind(settings, keys, "0.0.0.0") is None
    # Revoking every key does not open the server again.
    for key in keys.list():
        keys.revoke(key.id)
    assert check_bind(settings, keys, "0.0.0.0") is None
    keys.close()


def test_admin_key_must_be_long_and_is_never_echoed():
    with pytest.raises(SystemExit) as stopped:
        load_settings(admin_key="short-secret", _env_file=None)
    assert "SIFT_ADMIN_KEY" in str(stopped.value) and "short-secret" not in str(stopped.value)


def test_rate_limit_per_key_answers_429_with_retry_after(sift, tmp_path):
    app = create_app(sift=sift)
    app.state.keys.close()
    app.state.keys = KeyStore(tmp_path / "keys.sqlite3")
    _, secret = app.state.keys.create(name="chatty", scopes={Scope.QUERY})
    _, other = app.state.keys.create(name="calm", scopes={Scope.QUERY})
    app.state.rate_limits = RateLimits(requests_per_minute=3, concurrent_uploads=1)
    with TestClient(app, base_url="http://localhost") as client:
        statuses = [client.get("/v1/collections", headers={"X-API-Key": secret}).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = client.get("/v1/collections", headers={"X-API-Key": secret})
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert "SIFT_RATE_LIMIT_PER_MINUTE" in limited.json()["error"]["message"]
        assert client.get("/v1/collections", headers={"X-API-Key": other}).status_code == 200


def test_concurrent_uploads_per_key(sift, tmp_path, collection):
    app = create_app(sift=sift)
    app.state.keys.close()
    app.state.keys = KeyStore(tmp_path / "keys.sqlite3")
    key, secret = app.state.keys.create(name="importer", scopes={Scope.WRITE})
    app.state.rate_limits = RateLimits(requests_per_minute=0, concurrent_uploads=1)
    from api.auth import Principal

    with TestClient(app, base_url="http://localhost") as client:
        with app.state.rate_limits.upload_slot(Principal.from_key(key)):  # an upload already in progress
            busy = client.post(f"/v1/collections/{collection}/documents", json=NOTE, headers={"X-API-Key": secret})
        assert busy.status_code == 429 and "SIFT_MAX_CONCURRENT_UPLOADS" in busy.json()["error"]["message"]
        assert busy.headers["retry-after"]
        done = client.post(f"/v1/collections/{collection}/documents", json=NOTE, headers={"X-API-Key": secret})
        assert done.status_code == 200, done.text
