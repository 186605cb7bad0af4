"""THE typed client for the CRM backend's `/api/v1` (docs/contract.md, "Used by the bot").

Every call has a short timeout. A CRM that is down, slow or answering 5xx raises `CrmUnavailable`;
an answer with an error body raises `CrmError` carrying the contract's error `code`.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import Any, Literal, TypedDict

import aiohttp

from actions.config import get_settings
from actions.metrics import CRM_FAILURES, CRM_SECONDS, path_template
from kefu_ops.logs import CONVERSATION_HEADER, current_conversation

DEFAULT_TIMEOUT_S = 3.0
KNOWLEDGE_TIMEOUT_S = 6.0
Language = Literal["zh", "en"]


class CrmError(Exception):
    """The CRM answered with an error body (`{"error": {"code", "message", "details"}}`)."""

    def __init__(self, status: int, code: str, message: str = "", details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details


class CrmUnavailable(CrmError):
    """The CRM could not be reached in time or failed (5xx): nothing was decided, retry later."""

    def __init__(self, reason: str) -> None:
        super().__init__(503, "crm_unavailable", reason)


class Customer(TypedDict, total=False):
    id: int
    name_zh: str
    name_en: str
    display_name: str
    preferred_language: str
    tier: str
    phone_masked: str


class ExpiringPoints(TypedDict):
    points: int
    expires_at: str


class PointsSummary(TypedDict, total=False):
    balance: int
    tier: str
    expiring_soon: list[ExpiringPoints]
    expiring_total_30d: int


class Page(TypedDict):
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


class Redemption(TypedDict):
    redemption_id: int
    reward_code: str
    points_spent: int
    balance_after: int


class Ticket(TypedDict, total=False):
    ticket_no: str
    status: str
    category: str
    sla_due_at: str
    sla_hours: int


class TextAnalysis(TypedDict, total=False):
    language: str
    sentiment: dict[str, Any]
    category: dict[str, Any]
    redacted: str


class EscalationDecision(TypedDict, total=False):
    escalate: bool
    priority: str
    reason: str
    reason_code: str


class Handoff(TypedDict, total=False):
    handoff_id: int
    status: str
    expected_wait_minutes: int
    agents_online: int
    offer_callback: bool


# One HTTP session per event loop: rasa-sdk runs one loop, tests may run several.
_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = weakref.WeakKeyDictionary()


class Recommendation(TypedDict, total=False):
    sku: str
    name_zh: str
    name_en: str
    price: float
    reason_kind: str
    reason_zh: str
    reason_en: str


class Recommendations(TypedDict):
    customer_id: int
    tier: str
    items: list[Recommendation]


class KnowledgeArticle(TypedDict):
    id: int
    slug: str
    title: str
    language: Language
    passage: str
    url: str
    score: float


class KnowledgeAnswer(TypedDict, total=False):
    answered: bool
    article: KnowledgeArticle | None
    other_language: bool
    score: float


def _session() -> aiohttp.ClientSession:
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None or session.closed:
        session = aiohttp.ClientSession()
        _sessions[loop] = session
    return session


class CrmClient:
    """Calls the CRM on behalf of one conversation (its language sets `Accept-Language`)."""

    def __init__(self, base_url: str | None = None, token: str | None = None, *, language: str = "zh",
                 timeout: float = DEFAULT_TIMEOUT_S) -> None:
        settings = get_settings()
        self.base_url = (base_url or settings.crm_url).rstrip("/")
        self.token = token or settings.crm_service_token
        self.language = language
        self.timeout = timeout

    async def _request(self, method: str, path: str, *, json: dict[str, Any] | None = None,
                       params: dict[str, Any] | None = None, idempotency_key: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", "Accept-Language": self.language}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        conversation = current_conversation()
        if conversation:
            headers[CONVERSATION_HEADER] = conversation
        url = f"{self.base_url}/api/v1{path}"
        template, started = path_template(path), time.perf_counter()
        try:
            async with _session().request(method, url, json=json, params=params, headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=self.timeout)) as response:
                status = response.status
                try:
                    body = await response.json(content_type=None)
                except (ValueError, aiohttp.ContentTypeError):
                    body = None
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            reason = "timeout" if isinstance(error, asyncio.TimeoutError) else "connection"
            CRM_SECONDS.labels(method, template, "unavailable").observe(time.perf_counter() - started)
            CRM_FAILURES.labels(method, template, reason).inc()
            raise CrmUnavailable(f"{method} {path}: {type(error).__name__} {error}") from error
        outcome = "5xx" if status >= 500 else "4xx" if status >= 400 else "ok"
        CRM_SECONDS.labels(method, template, outcome).observe(time.perf_counter() - started)
        if status >= 500:
            CRM_FAILURES.labels(method, template, "5xx").inc()
            raise CrmUnavailable(f"{method} {path}: HTTP {status}")
        if status >= 400:
            detail = (body or {}).get("error", {}) if isinstance(body, dict) else {}
            raise CrmError(status, detail.get("code", "http_error"), detail.get("message", ""), detail.get("details"))
        return body

    # ---------------------------------------------------------------- customers and identity
    async def customer(self, customer_id: int) -> Customer:
        """GET /customers/{id}."""
        return await self._request("GET", f"/customers/{customer_id}")

    async def send_otp(self, phone: str, channel: str, sender_id: str) -> dict[str, Any]:
        """POST /identity/otp (the same answer whether or not the phone exists)."""
        return await self._request("POST", "/identity/otp", json={"phone": phone, "channel": channel,
                                                                   "sender_id": sender_id})

    async def verify_otp(self, phone: str, code: str, channel: str, sender_id: str) -> int:
        """POST /identity/otp/verify → the verified customer id (CrmError otp_invalid / otp_locked)."""
        body = await self._request("POST", "/identity/otp/verify", json={"phone": phone, "code": code,
                                                                          "channel": channel, "sender_id": sender_id})
        return int(body["customer_id"])

    async def linked_customer(self, channel: str, sender_id: str) -> int | None:
        """GET /identity/channels/{channel}/{sender_id} → customer id of a verified link, else None."""
        try:
            body = await self._request("GET", f"/identity/channels/{channel}/{sender_id}")
        except CrmError as error:
            if error.status == 404:
                return None
            raise
        return int(body["customer_id"])

    # ---------------------------------------------------------------- points and rewards
    async def points(self, customer_id: int) -> PointsSummary:
        """GET /customers/{id}/points."""
        return await self._request("GET", f"/customers/{customer_id}/points")

    async def points_entries(self, customer_id: int, limit: int = 5) -> Page:
        """GET /customers/{id}/points/entries (newest first)."""
        return await self._request("GET", f"/customers/{customer_id}/points/entries", params={"limit": limit})

    async def rewards(self, limit: int = 50) -> Page:
        """GET /rewards."""
        return await self._request("GET", "/rewards", params={"limit": limit})

    async def redeem(self, customer_id: int, reward_code: str, quantity: int, idempotency_key: str) -> Redemption:
        """POST /customers/{id}/redemptions; the same key never redeems twice."""
        return await self._request("POST", f"/customers/{customer_id}/redemptions",
                                   json={"reward_code": reward_code, "quantity": quantity},
                                   idempotency_key=idempotency_key)

    # ---------------------------------------------------------------- orders and tier
    async def orders(self, customer_id: int, limit: int = 1) -> Page:
        """GET /customers/{id}/orders (newest first)."""
        return await self._request("GET", f"/customers/{customer_id}/orders", params={"limit": limit})

    async def order(self, customer_id: int, order_no: str) -> dict[str, Any]:
        """GET /customers/{id}/orders/{order_no} with items and shipping events."""
        return await self._request("GET", f"/customers/{customer_id}/orders/{order_no}")

    async def tier(self, customer_id: int) -> dict[str, Any]:
        """GET /customers/{id}/tier: benefits and progress to the next tier."""
        return await self._request("GET", f"/customers/{customer_id}/tier")

    async def recommendations(self, customer_id: int, limit: int = 3) -> Recommendations:
        """GET /customers/{id}/recommendations: items not bought yet, each with its reason."""
        return await self._request("GET", f"/customers/{customer_id}/recommendations", params={"limit": limit})

    # ---------------------------------------------------------------- service
    async def tickets(self, customer_id: int, status: str | None = None) -> Page:
        """GET /customers/{id}/tickets."""
        params = {"status": status} if status else None
        return await self._request("GET", f"/customers/{customer_id}/tickets", params=params)

    async def create_ticket(self, payload: dict[str, Any], idempotency_key: str) -> Ticket:
        """POST /tickets (category inferred by the CRM when omitted)."""
        return await self._request("POST", "/tickets", json=payload, idempotency_key=idempotency_key)

    async def feedback(self, payload: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """POST /feedback → {feedback_id, follow_up_ticket_no?}."""
        return await self._request("POST", "/feedback", json=payload, idempotency_key=idempotency_key)

    async def feedback_comment(self, feedback_id: int, text: str, conversation_id: str,
                               idempotency_key: str) -> dict[str, Any]:
        """POST /feedback/{id}/comment → {feedback_id, follow_up_ticket_no?}."""
        return await self._request("POST", f"/feedback/{feedback_id}/comment", idempotency_key=idempotency_key,
                                   json={"text": text[:2000], "conversation_id": conversation_id})

    async def analyse(self, text: str) -> TextAnalysis:
        """POST /analysis/text: language, sentiment, complaint category with confidence."""
        return await self._request("POST", "/analysis/text", json={"text": text})

    async def decide_escalation(self, payload: dict[str, Any]) -> EscalationDecision:
        """POST /escalation/decide."""
        return await self._request("POST", "/escalation/decide", json=payload)

    async def create_handoff(self, payload: dict[str, Any]) -> Handoff:
        """POST /handoffs."""
        return await self._request("POST", "/handoffs", json=payload)

    async def opt_out(self, *, channel: str, sender_id: str, customer_id: int | None) -> dict[str, Any]:
        """POST /messaging/opt-out (marketing): `{customer_id, opted_out, message}`, message in our language."""
        payload: dict[str, Any] = {"channel": channel, "sender_id": sender_id[:191], "kind": "marketing"}
        if customer_id is not None:
            payload["customer_id"] = customer_id
        return await self._request("POST", "/messaging/opt-out", json=payload)

    async def record_interaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST /interactions (upsert by conversation_id)."""
        return await self._request("POST", "/interactions", json=payload)

    # ---------------------------------------------------------------- knowledge base
    async def knowledge_answer(self, question: str, language: str, conversation_id: str | None,
                               channel: str = "bot") -> KnowledgeAnswer:
        """POST /knowledge/answer: the best help-article passage, or `answered: false` (not confident)."""
        # Longer than the default: the first search after a CRM start or a publish rebuilds the index.
        self.timeout = max(self.timeout, KNOWLEDGE_TIMEOUT_S)
        return await self._request("POST", "/knowledge/answer", json={
            "question": question[:500], "language": language, "conversation_id": conversation_id,
            "channel": channel[:32]})

    async def knowledge_feedback(self, article_id: int, helpful: bool, language: str,
                                 conversation_id: str | None, channel: str = "bot") -> dict[str, Any]:
        """POST /knowledge/feedback: "Did this answer your question?" against the article."""
        return await self._request("POST", "/knowledge/feedback", json={
            "article_id": article_id, "helpful": helpful, "language": language,
            "conversation_id": conversation_id, "channel": channel[:32]})
