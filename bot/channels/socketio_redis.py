"""The website channel: Rasa's socket.io channel, backed by python-socketio's Redis manager.

Stock Rasa keeps socket.io rooms in one process, so a bot or agent message produced by another
Rasa instance never reaches the customer's socket. Here every instance attaches an
`AsyncRedisManager` (when REDIS_URL / REDIS_HOST is set): an emit to the conversation's room is
published on Redis and delivered by whichever instance holds the socket.

Other differences from `rasa.core.channels.socketio.SocketIOInput`:
- session persistence is on by default and `enter_room` is awaited (python-socketio 5.x made it a
  coroutine; the stock channel calls it without `await`, so its rooms are never joined);
- only `customer_token` and `language` are taken from the client's metadata; `channel` and
  `sender_id` are set by the server;
- session ids are validated, oversized or malformed messages are refused with an `error` event.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from bot.channels.common import MAX_MESSAGE_CHARS, redis_url_from_env, trusted_metadata

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class RedisSocketIOInput(InputChannel):
    """socket.io input channel whose rooms work across Rasa instances (Redis pub/sub)."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            namespace=credentials.get("namespace"),
            session_persistence=bool(credentials.get("session_persistence", True)),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            metadata_key=credentials.get("metadata_key", "metadata"),
            redis_url=credentials.get("redis_url") or redis_url_from_env(),
            redis_channel=credentials.get("redis_channel"),
            cors_allowed_origins=credentials.get("cors_allowed_origins", []),
        )

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        namespace: str | None = None,
        session_persistence: bool = True,
        socketio_path: str = "/socket.io",
        metadata_key: str = "metadata",
        redis_url: str | None = None,
        redis_channel: str | None = None,
        cors_allowed_origins: str | list[str] = (),  # type: ignore[assignment]
    ) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.namespace = namespace
        self.session_persistence = session_persistence
        self.socketio_path = socketio_path
        self.metadata_key = metadata_key
        self.redis_url = redis_url
        # Redis pub/sub channels are not per database: include the db so stacks sharing a server stay apart.
        db = (redis_url or "/0").rsplit("/", 1)[-1] or "0"
        self.redis_channel = redis_channel or f"kefu-socketio-{db}"
        self.cors_allowed_origins = (
            cors_allowed_origins if isinstance(cors_allowed_origins, str) else list(cors_allowed_origins)
        )
        self.sio: AsyncServer | None = None

    def _server(self) -> AsyncServer:
        manager = AsyncRedisManager(self.redis_url, channel=self.redis_channel) if self.redis_url else None
        if manager is not None:
            logger.info("socket.io rooms shared through Redis pub/sub channel %s", self.redis_channel)
        return AsyncServer(async_mode="sanic", cors_allowed_origins=self.cors_allowed_origins,
                           client_manager=manager)

    def get_output_channel(self) -> OutputChannel | None:
        """Output for messages pushed from outside a socket event (agent replies, reminders)."""
        if self.sio is None:
            return None
        return SocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """socket.io endpoint at `socketio_path` plus a health route under /webhooks/socketio/."""
        sio = self._server()
        self.sio = sio
        bp = SocketBlueprint(sio, self.socketio_path, "kefu_socketio_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "redis": bool(self.redis_url)})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict, auth: dict | None = None) -> bool:
            logger.debug("socket %s connected", sid)
            return True

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict | None = None) -> None:
            requested = (data or {}).get("session_id") if isinstance(data, dict) else None
            session_id = requested if isinstance(requested, str) and SESSION_ID.match(requested) else uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.save_session(sid, {"session_id": session_id}, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message", ""), str):
                await sio.emit("error", {"code": "malformed"}, room=sid, namespace=self.namespace)
                return
            text = data.get("message", "").strip()
            if not text:
                return
            if len(text) > MAX_MESSAGE_CHARS:
                await sio.emit("error", {"code": "payload_too_large", "max_chars": MAX_MESSAGE_CHARS},
                               room=sid, namespace=self.namespace)
                return
            if self.session_persistence:
                session = await sio.get_session(sid, namespace=self.namespace)
                # The room was joined for this session id; a message naming another one is refused.
                sender_id = session.get("session_id") if session else None
                if not sender_id or data.get("session_id") not in (None, sender_id):
                    await sio.emit("error", {"code": "no_session"}, room=sid, namespace=self.namespace)
                    return
            else:
                sender_id = sid
            client_metadata = data.get(self.metadata_key)
            metadata = trusted_metadata(self.name(), sender_id,
                                        client_metadata if isinstance(client_metadata, dict) else None)
            output = SocketIOOutput(sio, self.bot_message_evt)
            await on_new_message(UserMessage(text, output, sender_id, input_channel=self.name(), metadata=metadata))

        return bp
