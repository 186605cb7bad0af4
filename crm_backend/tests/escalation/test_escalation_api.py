"""POST /escalation/decide with customer facts from the database."""

from fastapi.testclient import TestClient


def decide(client: TestClient, headers: dict, **body: object) -> dict:
    r = client.post("/api/v1/escalation/decide", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_vip_goes_to_human_at_once(client: TestClient, service_headers: dict) -> None:
    wang = decide(client, service_headers, customer_id=1, explicit_request=True, bot_failures=0, is_complaint=False)
    assert wang["escalate"] and wang["priority"] == "urgent" and wang["reason_code"] == "vip_request"
    assert wang["vip"] and wang["tier"] == "diamond"
    emily = decide(client, service_headers, customer_id=3, is_complaint=True, complaint_severity="medium",
                   explicit_request=False, bot_failures=0)
    assert emily["escalate"] and emily["reason_code"] == "vip_complaint"


def test_regular_customer_is_bot_first(client: TestClient, service_headers: dict) -> None:
    zhang = decide(client, service_headers, customer_id=4, is_complaint=True, complaint_severity="medium",
                   explicit_request=False, bot_failures=0, message_sentiment="neutral")
    assert not zhang["escalate"] and zhang["reason_code"] == "bot_first_ticket"
    first = decide(client, service_headers, customer_id=4, explicit_request=True, bot_failures=0, is_complaint=False)
    assert not first["escalate"] and first["reason_code"] == "bot_first_request"
    again = decide(client, service_headers, customer_id=4, explicit_request=True, bot_failures=1,
                   is_complaint=False)
    assert again["escalate"] and again["reason_code"] == "repeated_request"
    anonymous = decide(client, service_headers, bot_failures=3, explicit_request=False, is_complaint=False,
                       message_sentiment=-0.9)
    assert anonymous["escalate"] and anonymous["priority"] == "high" and anonymous["tier"] is None


def test_reason_language_and_bad_input(client: TestClient, service_headers: dict) -> None:
    zh = client.post("/api/v1/escalation/decide", json={"customer_id": 1, "explicit_request": True},
                     headers={**service_headers, "Accept-Language": "zh-CN"}).json()
    assert zh["reason"] == "价值客户要求人工服务"
    for body, status in [({"customer_id": 99999}, 404), ({"bot_failures": -1}, 422),
                         ({"message_sentiment": 2}, 422), ({"complaint_severity": "huge"}, 422)]:
        assert client.post("/api/v1/escalation/decide", json=body, headers=service_headers).status_code == status
    assert client.post("/api/v1/escalation/decide", json={}).status_code == 401
