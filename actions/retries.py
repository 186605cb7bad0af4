"""Counting a form's rejected answers: after MAX_FAILURES the bot offers to stop (or a human)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import say

MAX_FAILURES = 3  # after this many bad answers in a row the form offers a way out


def failed_again(dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    """Count a rejected answer; from the third one on, offer to stop (or a human)."""
    failures = int(tracker.get_slot("form_failures") or 0) + 1
    if failures >= MAX_FAILURES:
        say(dispatcher, tracker, "utter_form_offer_stop")
    return {"form_failures": float(failures)}


def reset_failures() -> dict[str, Any]:
    return {"form_failures": 0.0}
