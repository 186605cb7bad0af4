"""Feedback domain errors (mapped to HTTP by core's single exception handler)."""

from __future__ import annotations

from crm_backend.core.errors import NotFoundError


class AgentNotFound(NotFoundError):
    def __init__(self, agent_id: int) -> None:
        super().__init__(f"Agent {agent_id} not found", f"未找到客服 {agent_id}", code="agent_not_found")


class FeedbackNotFound(NotFoundError):
    def __init__(self, feedback_id: int) -> None:
        super().__init__(f"Feedback {feedback_id} not found", f"未找到评价 {feedback_id}", code="feedback_not_found")
