"""Fixtures of the campaign tests: the stand-in Rasa server."""

from crm_backend.tests.campaign.stand_in_rasa import rasa_server  # noqa: F401 — fixture
