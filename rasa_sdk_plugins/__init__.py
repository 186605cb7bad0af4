"""rasa-sdk's plugin hook (`rasa_sdk.plugin` imports this package when it exists): Kefu's `/metrics`, log
format and conversation id on the action server, whatever starts it (`python -m rasa_sdk`, the image's
`start`)."""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("rasa_sdk")
log = logging.getLogger("actions.server")


class KefuActionServer:
    @hookimpl  # type: ignore[misc]
    def attach_sanic_app_extensions(self, app: Any) -> None:
        from kefu_ops.logs import configure
        from kefu_ops.sanic import instrument

        configure("actions")
        instrument(app, conversation_body_key="sender_id")
        _time_actions()


def _time_actions() -> None:
    from rasa_sdk.executor import ActionExecutor

    from actions.metrics import ACTION_SECONDS, FALLBACK_ACTIONS, FALLBACKS

    if getattr(ActionExecutor.run, "_kefu_metrics", False):
        return
    run = ActionExecutor.run

    @functools.wraps(run)
    async def timed_run(self: ActionExecutor, action_call: dict[str, Any]) -> Any:
        name = str(action_call.get("next_action") or "")
        known = name in self.actions
        started, outcome = time.perf_counter(), "error"
        try:
            result = await run(self, action_call)
            outcome = "ok"
            return result
        finally:
            label, seconds = (name if known else "unknown"), time.perf_counter() - started
            ACTION_SECONDS.labels(label, outcome).observe(seconds)
            log.info("action %s %s in %.0f ms", label, outcome, seconds * 1000)
            if name in FALLBACK_ACTIONS:
                language = ((action_call.get("tracker") or {}).get("slots") or {}).get("language")
                FALLBACKS.labels(name, language if language in ("zh", "en") else "unknown").inc()

    timed_run._kefu_metrics = True  # type: ignore[attr-defined]
    ActionExecutor.run = timed_run  # type: ignore[method-assign]


def init_hooks(manager: pluggy.PluginManager) -> None:
    manager.register(KefuActionServer())
