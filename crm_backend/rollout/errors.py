"""Roll-out errors, each with its HTTP status and both languages."""

from __future__ import annotations

from crm_backend.core.errors import ConflictError, DomainError, NotFoundError


class ArchiveRefused(DomainError):
    def __init__(self, message_en: str, message_zh: str) -> None:
        super().__init__("model_refused", 422, message_en, message_zh)


class VersionNotFound(NotFoundError):
    def __init__(self, version_id: int) -> None:
        super().__init__(f"Model version {version_id} not found", f"未找到模型版本 {version_id}",
                         code="model_not_found")


class GateRefused(ConflictError):
    def __init__(self, reasons_en: list[str], reasons_zh: list[str]) -> None:
        super().__init__("The gate refuses this model: " + "; ".join(reasons_en),
                         "门禁拒绝了该模型：" + "；".join(reasons_zh), code="gate_refused")


class NotPromotable(ConflictError):
    def __init__(self, message_en: str, message_zh: str) -> None:
        super().__init__(message_en, message_zh, code="not_promotable")


class NoServingModel(NotFoundError):
    def __init__(self) -> None:
        super().__init__("No model has been deployed yet", "尚未部署任何模型", code="no_model")
