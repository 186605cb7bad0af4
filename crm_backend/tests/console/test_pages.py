"""Console HTML pages: login form (CSRF + rate limit), language choice, static files, role gates."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def form_login(client: TestClient, username: str, password: str) -> object:
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    return client.post("/console/login", data={"username": username, "password": password,
                                                "csrf_token": token.group(1), "next": "/console"},
                       follow_redirects=False)


def test_console_redirects_to_login_then_renders_for_the_agent(client: TestClient) -> None:
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/login"
    response = form_login(client, "agent1", "agent1-pass")
    assert response.status_code == 303 and response.headers["location"] == "/console"  # type: ignore[attr-defined]
    page = client.get("/console?lang=zh")
    assert page.status_code == 200
    assert '<html lang="zh">' in page.text and "等待队列" in page.text
    assert 'name="csrf-token" content="' in page.text
    assert "/dashboard" not in page.text  # agents get no dashboard link
    assert client.get("/dashboard", follow_redirects=False).headers["location"] == "/console"
    english = client.get("/console", headers={"Accept-Language": "zh-CN"}, cookies={"kefu_lang": "en"})
    assert '<html lang="en">' in english.text and "Queue" in english.text


def test_accept_language_picks_the_login_page_language(client: TestClient) -> None:
    assert '<html lang="zh">' in client.get("/console/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert '<html lang="en">' in client.get("/console/login", headers={"Accept-Language": "en-GB"}).text


def test_login_form_needs_its_csrf_token_and_shows_errors(client: TestClient) -> None:
    client.get("/console/login")
    forged = client.post("/console/login", data={"username": "agent1", "password": "agent1-pass",
                                                 "csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403
    wrong = form_login(client, "agent1", "wrong")
    assert wrong.status_code == 401 and "data-testid=\"login-error\"" in wrong.text  # type: ignore[attr-defined]


def test_supervisor_gets_the_dashboard(client: TestClient) -> None:
    form_login(client, "supervisor", "supervisor-pass")
    page = client.get("/dashboard?lang=en")
    assert page.status_code == 200 and "Supervisor dashboard" in page.text and 'id="kpis"' in page.text


def test_static_files_are_served_without_traversal(client: TestClient) -> None:
    js = client.get("/console/static/console.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert client.get("/console/static/..%2Fauth.py").status_code == 404
    assert client.get("/console/static/missing.js").status_code == 404


def test_pages_load_nothing_from_other_hosts(client: TestClient) -> None:
    form_login(client, "supervisor", "supervisor-pass")
    for path in ("/console/login", "/console", "/dashboard"):
        page = client.get(path)
        assert not re.search(r'(src|href)="(https?:)?//', page.text), path
        assert "script-src 'self'" in page.headers["content-security-policy"], path
        assert not re.search(r"<script>", page.text), f"inline script on {path} would be blocked by the CSP"


def test_logout_revokes_the_session(client: TestClient) -> None:
    form_login(client, "agent1", "agent1-pass")
    page = client.get("/console")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token
    stolen = client.cookies.get("kefu_session")
    assert client.post("/console/logout", data={"csrf_token": token.group(1)},
                       follow_redirects=False).status_code == 303
    client.cookies.set("kefu_session", stolen or "")  # replaying the old cookie must not work
    assert client.get("/console", follow_redirects=False).status_code == 303
