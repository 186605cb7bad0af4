"""OTP send/verify, lockout, channel identities, dev outbox."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crm_backend.core.config import Settings, get_settings
from crm_backend.identity.models import ChannelIdentity, OtpChallenge

BASE = "/api/v1/identity"
HEADERS = {"Authorization": f"Bearer {get_settings().crm_service_token}"}


def _send(client, headers, phone="13800000003", sender="web-1"):
    return client.post(f"{BASE}/otp", json={"phone": phone, "channel": "socketio", "sender_id": sender},
                       headers=headers)


def _code(client, phone):
    items = client.get("/api/v1/dev/outbox", params={"recipient": phone}, headers=HEADERS).json()["items"]
    return items[0]["code"]


def _verify(client, headers, code, phone="13800000003", sender="web-1"):
    return client.post(f"{BASE}/otp/verify",
                       json={"phone": phone, "code": code, "channel": "socketio", "sender_id": sender},
                       headers=headers)


def test_send_and_verify_links_channel(client, service_headers, session):
    assert client.get(f"{BASE}/channels/socketio/web-1", headers=service_headers).status_code == 404
    response = _send(client, service_headers)
    assert response.status_code == 200
    assert response.json() == {"sent": True, "expires_in": 300}
    code = _code(client, "13800000003")
    assert len(code) == 6 and code.isdigit()
    verified = _verify(client, service_headers, code)
    assert verified.status_code == 200, verified.text
    assert verified.json() == {"customer_id": 3}
    lookup = client.get(f"{BASE}/channels/socketio/web-1", headers=service_headers)
    assert lookup.json() == {"customer_id": 3}
    # A code is single-use.
    assert _verify(client, service_headers, code).status_code == 400


def test_unknown_phone_gets_same_answer_and_nothing_delivered(client, service_headers):
    known = _send(client, service_headers, phone="13800000001", sender="a")
    unknown = _send(client, service_headers, phone="13912345678", sender="b")
    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json()
    assert client.get("/api/v1/dev/outbox", params={"recipient": "13912345678"},
                      headers=service_headers).json()["total"] == 0
    wrong = _verify(client, service_headers, "000000", phone="13912345678", sender="b")
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "otp_invalid"


def test_three_wrong_codes_lock_for_15_minutes(client, service_headers, session):
    _send(client, service_headers)
    real = _code(client, "13800000003")
    wrong = "111111" if real != "111111" else "222222"
    first = _verify(client, service_headers, wrong)
    assert first.status_code == 400
    assert first.json()["error"]["details"]["attempts_left"] == 2
    assert _verify(client, service_headers, wrong).json()["error"]["details"]["attempts_left"] == 1
    locked = _verify(client, service_headers, wrong)
    assert locked.status_code == 423
    assert locked.json()["error"]["code"] == "otp_locked"
    # Even the right code is refused while locked, and no identity was linked.
    assert _verify(client, service_headers, real).status_code == 423
    assert _send(client, service_headers).status_code == 423
    assert session.scalars(select(ChannelIdentity).where(ChannelIdentity.sender_id == "web-1")).first() is None
    challenge = session.scalars(select(OtpChallenge).where(OtpChallenge.phone == "13800000003")).first()
    assert challenge is not None and challenge.locked_until is not None
    assert timedelta(minutes=14) < challenge.locked_until - challenge.created_at <= timedelta(minutes=16)


def test_expired_code_is_invalid(client, service_headers, session):
    _send(client, service_headers)
    code = _code(client, "13800000003")
    challenge = session.scalars(select(OtpChallenge).where(OtpChallenge.phone == "13800000003")).one()
    challenge.expires_at = challenge.created_at - timedelta(seconds=1)
    session.flush()
    response = _verify(client, service_headers, code)
    assert response.status_code == 400
    assert response.json()["error"]["details"]["reason"] == "expired"


def test_code_bound_to_sender(client, service_headers):
    _send(client, service_headers, sender="web-1")
    code = _code(client, "13800000003")
    assert _verify(client, service_headers, code, sender="someone-else").status_code == 400


def test_bad_phone_and_missing_token(client, service_headers):
    bad = _send(client, service_headers, phone="12345")
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "validation_error"
    assert _send(client, {}).status_code == 401


def test_phone_with_country_code_is_normalized(client, service_headers):
    assert _send(client, service_headers, phone="+86 138-0000-0003").status_code == 200
    assert _code(client, "13800000003")


def test_outbox_hidden_outside_development(app, client):
    prod = Settings(kefu_env="production", crm_service_token="a" * 32, customer_token_secret="b" * 32,
                    crm_secret_key="c" * 32, rasa_auth_token="d" * 32)
    app.dependency_overrides[get_settings] = lambda: prod
    try:
        response = client.get("/api/v1/dev/outbox", headers={"Authorization": f"Bearer {'a' * 32}"})
    finally:
        app.dependency_overrides.pop(get_settings)
    assert response.status_code == 404


def test_new_code_does_not_reset_the_attempt_budget(client, service_headers):
    _send(client, service_headers)
    assert _verify(client, service_headers, "abcdef").json()["error"]["details"]["attempts_left"] == 2
    _send(client, service_headers)
    assert _verify(client, service_headers, "abcdef").json()["error"]["details"]["attempts_left"] == 1
    _send(client, service_headers)
    assert _verify(client, service_headers, "abcdef").status_code == 423


def test_outbox_needs_the_service_token(client):
    assert client.get("/api/v1/dev/outbox").status_code == 401


def test_too_many_codes_per_hour_is_429(client, service_headers):
    for index in range(10):
        assert _send(client, service_headers, sender=f"s{index}").status_code == 200
    limited = _send(client, service_headers, sender="s-last")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
