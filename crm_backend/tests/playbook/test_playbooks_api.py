"""Playbook management: shipped defaults, supervisor-only editing, templates checked when saved, the page."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from crm_backend.playbook.models import MessagingPreference
from testing.handoff import login

DEFAULT_KEYS = {"win_back", "upgrade_nudge", "birthday_double_points", "csat_check_in", "welcome"}


def supervisor(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": login(client, "supervisor")}


def test_five_defaults_are_shipped(client: TestClient) -> None:
    headers = supervisor(client)
    items = client.get("/api/v1/playbooks", headers=headers).json()
    assert DEFAULT_KEYS <= {p["key"] for p in items}
    win_back = next(p for p in items if p["key"] == "win_back")
    assert win_back["holdout_pct"] == 0.10 and win_back["offer_kind"] == "points"
    rule = {k: v for k, v in win_back["audience"].items() if v not in (None, False)}
    assert rule == {"lifecycle_stages": ["decline"], "churn_risk_min": 0.6}
    csat = next(p for p in items if p["key"] == "csat_check_in")
    assert csat["purpose"] == "service" and csat["event"] == {"type": "order_delivered", "days": 7}


def test_login_and_role_required(client: TestClient) -> None:
    assert client.get("/api/v1/playbooks").status_code == 401
    token = login(client, "agent1")
    assert client.get("/api/v1/playbooks", headers={"X-CSRF-Token": token}).status_code == 403


def edited(client: TestClient, headers: dict[str, str], **changes: Any) -> tuple[int, dict[str, Any]]:
    items = client.get("/api/v1/playbooks", headers=headers).json()
    body = next(p for p in items if p["key"] == "upgrade_nudge")
    playbook_id = body["id"]
    for name in ("id", "key", "updated_by", "updated_at"):
        body.pop(name)
    body.update(changes)
    return playbook_id, body


def test_supervisor_edits_a_playbook(client: TestClient) -> None:
    headers = supervisor(client)
    playbook_id, body = edited(client, headers, template_en="{name}: {amount_to_next} CNY to {next_tier}!",
                               holdout_pct=0.2)
    saved = client.put(f"/api/v1/playbooks/{playbook_id}", json=body, headers=headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["holdout_pct"] == 0.2 and saved.json()["updated_by"] == "supervisor"
    del client.headers["X-CSRF-Token"]
    assert client.put(f"/api/v1/playbooks/{playbook_id}", json=body).status_code == 403  # no CSRF token
    client.cookies.clear()
    assert client.put(f"/api/v1/playbooks/{playbook_id}", json=body, headers=headers).status_code == 401


def test_unknown_template_field_is_refused_when_saved_in_both_languages(client: TestClient) -> None:
    headers = supervisor(client)
    playbook_id, body = edited(client, headers, template_zh="{name}，您的积分 {points_left}")
    english = client.put(f"/api/v1/playbooks/{playbook_id}", json=body, headers=headers)
    assert english.status_code == 422
    error = english.json()["error"]
    assert error["code"] == "validation_error" and "points_left" in error["message"]
    assert error["details"]["unknown_fields"] == ["points_left"]
    chinese = client.put(f"/api/v1/playbooks/{playbook_id}", json=body, headers={**headers, "Accept-Language": "zh"})
    assert chinese.json()["error"]["message"].startswith("模板中有未知字段")
    for bad in ("{name!r}", "{name:>10}", "{name", "{customer.phone}"):
        _id, body = edited(client, headers, template_en=bad)
        assert client.put(f"/api/v1/playbooks/{playbook_id}", json=body, headers=headers).status_code == 422, bad
    _id, body = edited(client, headers, template_en="{name}, use {coupon_code}")
    refused = client.put(f"/api/v1/playbooks/{playbook_id}", json=body, headers=headers)
    assert refused.status_code == 422 and "no offer" in refused.json()["error"]["message"]


def test_new_playbook_and_bad_rules(client: TestClient) -> None:
    headers = supervisor(client)
    body = {"name_zh": "金卡关怀", "name_en": "Gold care", "audience": {"tiers": ["gold"], "languages": ["zh"]},
            "template_zh": "{name}，感谢您的支持", "template_en": "{name}, thank you", "schedule": "once"}
    created = client.post("/api/v1/playbooks", json=body, headers=headers)
    assert created.status_code == 201 and created.json()["key"].startswith("gold_care")
    assert created.json()["holdout_pct"] == 0.1
    for bad in ({"audience": {"tiers": ["platinum"]}}, {"audience": {"favourite_colour": "red"}},
                {"schedule": "event"}, {"offer_kind": "points"}):
        assert client.post("/api/v1/playbooks", json={**body, **bad}, headers=headers).status_code == 422, bad


def test_playbooks_page_needs_a_supervisor_login(client: TestClient) -> None:
    assert client.get("/playbooks", follow_redirects=False).headers["location"] == "/console/login"
    login(client, "agent1")
    assert client.get("/playbooks", follow_redirects=False).headers["location"] == "/console"
    login(client, "supervisor")
    page = client.get("/playbooks?lang=zh")
    assert page.status_code == 200 and "流失挽回" in page.text and 'data-testid="uplift-win_back"' in page.text
    assert "<script>" not in page.text
    english = client.get("/playbooks?lang=en")
    assert "Win-back" in english.text and "Uplift (95% CI)" in english.text


def test_page_shows_runs_with_their_uplift(client: TestClient, session: object) -> None:
    import random

    from crm_backend.playbook import demo

    demo.seed_history(session, rng=random.Random(3))  # type: ignore[arg-type]
    login(client, "supervisor")
    page = client.get("/playbooks?lang=en")
    assert page.status_code == 200 and 'data-testid="runs-win_back"' in page.text and " pp [" in page.text


def test_time_zone_and_switches_are_editable_through_the_api(client: TestClient, session: Session,
                                                             service_headers: dict[str, str]) -> None:
    url = "/api/v1/customers/2/messaging-preferences"
    assert client.get(url).status_code == 401
    first = client.get(url, headers=service_headers).json()
    assert first["timezone"] == "Asia/Shanghai" and first["marketing_opt_out"] is False
    changed = client.put(url, json={"timezone": "Europe/Berlin"}, headers=service_headers)
    assert changed.status_code == 200 and changed.json()["timezone"] == "Europe/Berlin"
    prefs = session.get(MessagingPreference, 2)
    assert prefs is not None and prefs.timezone == "Europe/Berlin"
    for lang, words in (("zh", "无法识别的时区"), ("en", "Unknown time zone")):
        bad = client.put(url, json={"timezone": "Mars/Olympus"}, headers={**service_headers, "Accept-Language": lang})
        assert bad.status_code == 422 and words in bad.text
    assert client.get(url, headers=service_headers).json()["timezone"] == "Europe/Berlin", "a bad value loses nothing"
    client.post("/api/v1/messaging/opt-out", json={"channel": "telegram", "customer_id": 2}, headers=service_headers)
    out = client.get(url, headers=service_headers).json()
    assert out["marketing_opt_out"] is True and out["opt_out_channel"] == "telegram"
    back = client.put(url, json={"marketing_opt_out": False}, headers=service_headers).json()
    assert back["marketing_opt_out"] is False and back["opt_out_channel"] == "" and back["timezone"] == "Europe/Berlin"
    assert client.get("/api/v1/customers/999999/messaging-preferences", headers=service_headers).status_code == 404
