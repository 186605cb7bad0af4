"""A stand-in for Rasa's conversation HTTP API (tracker read, events, trigger_intent), in memory.

Used by the console UI test, which checks the agent console in a real browser without needing a
trained bot: `uvicorn tests.e2e.handoff_fake_rasa:app --port N`. `POST /_test/say` adds a customer
turn; `POST /_test/down` makes the conversation API fail with 503 (Rasa unreachable). Every event it
records is also published the way Rasa's SQL event broker does (table `events` of `$KEFU_EVENTS_DB`),
which is how the CRM learns of customer turns.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()
TRACKERS: dict[str, list[dict[str, Any]]] = {}
STATE = {"down": False}


def _events(conversation: str) -> list[dict[str, Any]]:
    return TRACKERS.setdefault(conversation, [])


def _record(conversation: str, event: dict[str, Any]) -> None:
    _events(conversation).append(event)
    with sqlite3.connect(os.environ["KEFU_EVENTS_DB"]) as db:
        db.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), data TEXT)")
        db.execute("INSERT INTO events (sender_id, data) VALUES (?, ?)",
                   (conversation, json.dumps({"sender_id": conversation, **event})))


@app.post("/_test/say/{conversation}")
async def say(conversation: str, request: Request) -> dict[str, Any]:
    body = await request.json()
    _record(conversation, {"event": "user", "text": body["text"], "timestamp": time.time(),
                           "parse_data": {"intent": {"name": "check_order", "confidence": 0.9}}})
    return {"ok": True}


@app.post("/_test/down")
async def down(request: Request) -> dict[str, Any]:
    STATE["down"] = bool((await request.json())["down"])
    return STATE


@app.get("/conversations/{conversation}/tracker")
async def tracker(conversation: str) -> Any:
    if STATE["down"]:
        return JSONResponse({"error": "down"}, status_code=503)
    return {"sender_id": conversation, "events": _events(conversation)}


@app.post("/conversations/{conversation}/tracker/events")
async def events(conversation: str, request: Request) -> Any:
    if STATE["down"]:
        return JSONResponse({"error": "down"}, status_code=503)
    _record(conversation, await request.json())
    return {"sender_id": conversation, "events": _events(conversation)}


@app.post("/conversations/{conversation}/trigger_intent")
async def trigger(conversation: str, request: Request) -> Any:
    if STATE["down"]:
        return JSONResponse({"error": "down"}, status_code=503)
    body = await request.json()
    _record(conversation, {"event": "bot", "text": f"CSAT 1-5? ({body['name']})", "timestamp": time.time()})
    return {"tracker": {"events": _events(conversation)}}
