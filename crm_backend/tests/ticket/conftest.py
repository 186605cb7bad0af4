"""Fixtures of the ticket tests: the stand-in Rasa server (CSAT after a resolved ticket)."""

from crm_backend.tests.campaign.stand_in_rasa import rasa_server  # noqa: F401 — fixture
