"""Publish customer turns through services mode's broker, Kefu's batching subclass of Rasa 3.6's
PikaEventBroker (run with the bot venv's Python, the repository on PYTHONPATH).

    python rasa_publisher.py PORT EXCHANGE QUEUE SENDER COUNT INTERVAL

Event i is a `user` event with timestamp START + i, so the test can check that every one arrived once.
Exits 0 after every event was published (Rasa keeps the ones it could not publish and sends them again
after reconnecting), 1 if some are still unpublished after the grace period.
"""

from __future__ import annotations

import asyncio
import sys
import time

START = 1_800_000_000.0


async def main() -> int:
    import rasa.shared.core.events  # noqa: F401 — loaded in a Rasa server; the broker's publish needs it

    from bot.event_broker import BatchingPikaEventBroker

    port, exchange, queue, sender, count, interval = sys.argv[1:7]
    broker = BatchingPikaEventBroker("127.0.0.1", "guest", "guest", port=int(port), queues=[queue],
                                     exchange_name=exchange, connection_attempts=30, retry_delay_in_seconds=1)
    await broker.connect()
    for i in range(int(count)):
        broker.publish({"sender_id": sender, "event": "user", "timestamp": START + i, "text": f"turn {i}",
                        "input_channel": "rest",
                        "parse_data": {"intent": {"name": "check_order", "confidence": 0.8}, "entities": []}})
        await asyncio.sleep(float(interval))
    deadline = time.monotonic() + 90
    while (broker._unpublished_events or broker._background_tasks or broker._pending) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    left = len(broker._unpublished_events)
    await broker.close()
    print(f"unpublished {left}", flush=True)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
