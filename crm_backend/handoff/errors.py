"""Handoff/console domain errors (mapped to HTTP by core's single exception handler)."""

from __future__ import annotations

from crm_backend.core.errors import ConflictError, DomainError, ForbiddenError, NotFoundError


class HandoffNotFound(NotFoundError):
    def __init__(self, handoff_id: int) -> None:
        super().__init__(f"Handoff {handoff_id} not found", f"未找到转人工会话 {handoff_id}")


class AgentNotFound(NotFoundError):
    def __init__(self, agent_id: int) -> None:
        super().__init__(f"Agent {agent_id} not found", f"未找到客服 {agent_id}")


class AlreadyClaimed(ConflictError):
    def __init__(self, handoff_id: int) -> None:
        super().__init__(f"Conversation {handoff_id} was already taken by another agent",
                         f"会话 {handoff_id} 已被其他客服接入")


class NotAssigned(ForbiddenError):
    def __init__(self, handoff_id: int) -> None:
        super().__init__(f"Claim conversation {handoff_id} before answering it", f"请先接入会话 {handoff_id} 再回复")


class AlreadyResolved(ConflictError):
    def __init__(self, handoff_id: int) -> None:
        super().__init__(f"Conversation {handoff_id} is already resolved", f"会话 {handoff_id} 已结束",
                         code="invalid_transition")


class Forbidden(ForbiddenError):
    def __init__(self) -> None:
        super().__init__("You may not access this conversation", "您无权访问该会话")


class CsrfFailed(DomainError):
    def __init__(self) -> None:
        super().__init__("forbidden", 403, "Missing or invalid CSRF token", "CSRF 校验失败，请刷新页面后重试")
