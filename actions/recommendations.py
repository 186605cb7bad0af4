"""Personal recommendations in chat ("推荐" / "recommend something"), for a verified customer only: they come
from the customer's own order history, so an unverified visitor is asked to verify first."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.account import AccountAction
from actions.common import language, say
from actions.crm_client import CrmClient


class ActionRecommendProducts(AccountAction):
    """Up to three items, each with its reason ("customers who bought X also bought Y")."""

    action_name = "action_recommend_products"

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, client: CrmClient,
                     customer_id: int) -> list[EventType]:
        found = await client.recommendations(customer_id, limit=3)
        items = found.get("items") or []
        if not items:
            say(dispatcher, tracker, "utter_recommendations_none")
            return []
        lang = language(tracker)
        lines = []
        for number, item in enumerate(items, start=1):
            name = item.get("name_zh") if lang == "zh" else item.get("name_en")
            reason = item.get("reason_zh") if lang == "zh" else item.get("reason_en")
            price = f"¥{float(item.get('price') or 0):,.2f}"
            price = f"（{price}）" if lang == "zh" else f" ({price})"
            lines.append(f"{number}. {name}{price} — {reason}")
        say(dispatcher, tracker, "utter_recommendations_list", items="\n".join(lines))
        return []
