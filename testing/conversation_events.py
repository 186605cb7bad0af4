"""Tracker events shaped like the ones Rasa 3.6's event brokers publish (sender_id + Event.as_dict())."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any


def user(sender: str, text: str, ts: float, intent: str = "greet", confidence: float = 0.93,
         channel: str = "rest", language: str | None = None, entities: list[dict[str, Any]] | None = None,
         ) -> dict[str, Any]:
    metadata = {"language": language} if language else {}
    return {"sender_id": sender, "event": "user", "timestamp": ts, "text": text, "input_channel": channel,
            "message_id": f"m-{sender}-{ts}", "metadata": metadata,
            "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": entities or [],
                           "text": text}}


def bot(sender: str, text: str, ts: float) -> dict[str, Any]:
    return {"sender_id": sender, "event": "bot", "timestamp": ts, "text": text, "data": {}, "metadata": {}}


def action(sender: str, name: str, ts: float) -> dict[str, Any]:
    return {"sender_id": sender, "event": "action", "timestamp": ts, "name": name, "policy": "RulePolicy",
            "confidence": 1.0}


def slot(sender: str, name: str, value: Any, ts: float) -> dict[str, Any]:
    return {"sender_id": sender, "event": "slot", "timestamp": ts, "name": name, "value": value}


def conversation(sender: str, t0: float, *, intents: list[str], language: str = "zh", channel: str = "rest",
                 handoff: bool = False, csat: int | None = None) -> list[dict[str, Any]]:
    """A conversation: one customer turn per intent, each answered (or falling back), optionally handed off."""
    out: list[dict[str, Any]] = [action(sender, "action_session_start", t0), slot(sender, "language", language, t0)]
    ts = t0
    for intent in intents:
        ts += 1
        out.append(user(sender, f"{intent} text", ts, intent=intent, channel=channel, language=language))
        if intent == "nlu_fallback":
            out.append(action(sender, "action_default_fallback", ts + 0.1))
        else:
            out.append(action(sender, f"utter_{intent}", ts + 0.1))
            out.append(bot(sender, f"answer to {intent}", ts + 0.2))
    if handoff:
        out += [action(sender, "action_handoff_to_human", ts + 0.5),
                {"sender_id": sender, "event": "pause", "timestamp": ts + 0.6}]
    if csat is not None:
        out.append(slot(sender, "csat_score", csat, ts + 0.7))
    return out


def write_sql_broker_file(path: Path, events: list[dict[str, Any]]) -> None:
    """Append events the way Rasa's SQLEventBroker does (table `events`: id, sender_id, data)."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), data TEXT)")
        db.executemany("INSERT INTO events (sender_id, data) VALUES (?, ?)",
                       [(e.get("sender_id"), json.dumps(e)) for e in events])
