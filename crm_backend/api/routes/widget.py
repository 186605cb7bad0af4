"""Website chat widget and demo host page (crm_backend/widget), mounted at the site root."""

from crm_backend.widget.router import router as root_router

__all__ = ["root_router"]
