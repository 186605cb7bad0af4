"""Who may read `/metrics`, and the exposition itself.

Metrics carry no conversation ids, customer ids or text, only bounded labels (channel, language, route
templates, priorities); they still describe the business (traffic, queue, breaches), so outside
development `/metrics` needs `Authorization: Bearer $METRICS_TOKEN` (Prometheus: `authorization:
credentials_file`). A production process without METRICS_TOKEN answers 403 rather than publish them.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

DEVELOPMENT = {"development", "dev"}

# Seconds; the bot's p95 target lives around 0.1–1 s, the CRM's handoff poller rounds under 2 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)

# The same HTTP series in all three processes (the `job` label tells them apart), so one alert covers them.
# `route` is the route's template, never the URL sent; `status` is grouped (2xx, 4xx, 5xx).
HTTP_SECONDS = Histogram("kefu_http_request_duration_seconds", "HTTP request latency by route template.",
                         ["route", "method", "status"], buckets=LATENCY_BUCKETS)
HTTP_ERRORS = Counter("kefu_http_request_errors_total", "HTTP answers with a 5xx status.", ["route", "method"])


def observe_http(route: str, method: str, status: int, seconds: float) -> None:
    HTTP_SECONDS.labels(route, method, f"{status // 100}xx").observe(seconds)
    if status >= 500:
        HTTP_ERRORS.labels(route, method).inc()


@dataclass(frozen=True)
class Denied:
    status: int
    code: str
    message_en: str
    message_zh: str


def check_access(authorization: str | None, environ: Mapping[str, str] | None = None) -> Denied | None:
    """None when the caller may read the metrics, else why not (401 wrong/missing token, 403 no token set)."""
    env = os.environ if environ is None else environ
    token = env.get("METRICS_TOKEN", "")
    development = env.get("KEFU_ENV", "development").strip().lower() in DEVELOPMENT
    if not token:
        if development:
            return None
        return Denied(403, "forbidden", "Metrics are disabled: set METRICS_TOKEN outside development",
                      "指标未开放：非开发环境请设置 METRICS_TOKEN")
    presented = (authorization or "").removeprefix("Bearer ").strip() if authorization else ""
    if presented and hmac.compare_digest(presented.encode(), token.encode()):
        return None
    return Denied(401, "unauthorized", "Missing or invalid metrics token", "缺少或无效的指标令牌")


def exposition(registry: CollectorRegistry = REGISTRY) -> tuple[bytes, str]:
    """The registry in Prometheus' text format, with its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST


WORKER_LAST_SUCCESS = Gauge("kefu_worker_last_success_timestamp_seconds",
                            "When a background loop (poller, consumer, maintenance) last finished a round.",
                            ["worker"])
WORKER_FAILURES = Counter("kefu_worker_failures_total", "Background loop rounds that raised.", ["worker"])


def worker_round(worker: str, *, ok: bool) -> None:
    """Record one round of a background loop; an alert fires when the timestamp stops moving."""
    if ok:
        WORKER_LAST_SUCCESS.labels(worker).set_to_current_time()
    else:
        WORKER_FAILURES.labels(worker).inc()
