"""Chat with the running Kefu stack from another terminal, through Rasa's REST channel.

    python3 scripts/chat.py                 # anonymous visitor
    python3 scripts/chat.py --customer 1    # verified demo customer (signs a development customer token)

While chatting:
    /restart   start a new conversation (Rasa forgets this one: a restart event)
    /quit      leave (Ctrl-D or Ctrl-C too)

Standard library only, so any Python 3.8+ runs it.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.kefu_cli.config import dev_secrets, read_env_file  # noqa: E402

QUIT = {"/quit", "/exit"}
RESTART = "/restart"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def customer_token(customer_id: int, secret: str, minutes: int = 60) -> str:
    """An HS256 JWT as a website would pass it (`sub` = CRM customer id, short expiry)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    now = int(time.time())
    payload = b64url(json.dumps({"sub": str(customer_id), "iat": now, "exp": now + minutes * 60}).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def token_secret() -> str:
    """The secret `./kefu run` gives the stack: the environment, then .env, then the development value."""
    name = "CUSTOMER_TOKEN_SECRET"
    return os.environ.get(name) or read_env_file(ROOT / ".env").get(name) or dev_secrets()[name]


def send(url: str, sender: str, text: str, metadata: dict) -> list:
    body = json.dumps({"sender": sender, "message": text, "metadata": metadata}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def show(messages: list) -> None:
    for message in messages:
        if message.get("text"):
            print(f"kefu> {message['text']}", flush=True)
        for button in message.get("buttons", []):
            print(f"      [{button.get('title')}] → {button.get('payload')}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customer", type=int, help="chat as this verified CRM customer id")
    parser.add_argument("--rasa", default=os.environ.get("RASA_URL", "http://127.0.0.1:5005"),
                        help="Rasa server URL (default: $RASA_URL or http://127.0.0.1:5005)")
    parser.add_argument("--sender", help="conversation id (default: a new one); reuse one to continue it")
    args = parser.parse_args()
    metadata = {}
    if args.customer:
        metadata["customer_token"] = customer_token(args.customer, token_secret())
    sender = args.sender or f"terminal-{uuid.uuid4().hex[:8]}"
    url = f"{args.rasa}/webhooks/rest/webhook"
    print("Type a message (Chinese or English); /restart starts over, /quit leaves.", flush=True)
    while True:
        try:
            text = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if not text:
            continue
        if text.lower() in QUIT:
            return
        try:
            show(send(url, sender, RESTART if text.lower() == RESTART else text, metadata))
        except OSError as error:
            print(f"(cannot reach Rasa at {args.rasa}: {error}; is `./kefu run` running?)", flush=True)
            continue
        if text.lower() == RESTART:
            print("(new conversation)", flush=True)


if __name__ == "__main__":
    main()
