"""Chat with the running Kefu stack from the terminal through Rasa's REST channel.

    python scripts/chat.py                 # anonymous visitor
    python scripts/chat.py --customer 1    # verified demo customer (signs a development customer token)

Standard library only, so any Python 3.8+ runs it.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import time
import urllib.request
import uuid


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def customer_token(customer_id: int, secret: str, minutes: int = 60) -> str:
    """An HS256 JWT as a website would pass it (`sub` = CRM customer id, short expiry)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    now = int(time.time())
    payload = b64url(json.dumps({"sub": str(customer_id), "iat": now, "exp": now + minutes * 60}).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def send(url: str, sender: str, text: str, metadata: dict) -> list:
    body = json.dumps({"sender": sender, "message": text, "metadata": metadata}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customer", type=int, help="chat as this verified CRM customer id")
    parser.add_argument("--rasa", default=os.environ.get("RASA_URL", "http://127.0.0.1:5005"))
    args = parser.parse_args()
    metadata = {}
    if args.customer:
        secret = os.environ.get("CUSTOMER_TOKEN_SECRET", "dev-customer-token-secret")
        metadata["customer_token"] = customer_token(args.customer, secret)
    sender = f"terminal-{uuid.uuid4().hex[:8]}"
    url = f"{args.rasa}/webhooks/rest/webhook"
    print("Type a message (Chinese or English); Ctrl-D to quit.")
    while True:
        try:
            text = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if not text:
            continue
        try:
            for message in send(url, sender, text, metadata):
                if message.get("text"):
                    print(f"kefu> {message['text']}")
                for button in message.get("buttons", []):
                    print(f"      [{button.get('title')}] → {button.get('payload')}")
        except OSError as error:
            print(f"(cannot reach Rasa at {args.rasa}: {error}; is `./kefu run` running?)")


if __name__ == "__main__":
    main()
