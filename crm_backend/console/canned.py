"""Canned replies of the console, in Chinese and English.

`{name}`, `{order_no}` and `{points}` are filled from the open handoff's customer (crm_backend.copilot).
"""

from __future__ import annotations

CANNED: list[dict[str, str]] = [
    {"code": "greeting", "title_zh": "问候", "title_en": "Greeting",
     "zh": "您好，我是人工客服，很高兴为您服务。请问有什么可以帮您？",
     "en": "Hello, this is a customer service agent. How can I help you?"},
    {"code": "greeting_name", "title_zh": "称呼问候", "title_en": "Greeting by name",
     "zh": "{name}您好，我是人工客服，很高兴为您服务。", "en": "Hello {name}, this is a customer service agent."},
    {"code": "order_status", "title_zh": "订单查询", "title_en": "Order status",
     "zh": "我正在为您查询订单 {order_no} 的最新状态，请稍等。",
     "en": "I am checking the latest status of order {order_no} for you, one moment please."},
    {"code": "points_balance", "title_zh": "积分余额", "title_en": "Points balance",
     "zh": "{name}，您当前的积分余额为 {points} 分。", "en": "{name}, your current points balance is {points}."},
    {"code": "checking", "title_zh": "正在查询", "title_en": "Checking",
     "zh": "请稍等，我正在为您查询。", "en": "One moment please, I am checking that for you."},
    {"code": "sorry", "title_zh": "致歉", "title_en": "Apology",
     "zh": "非常抱歉给您带来不便，我们会尽快为您处理。",
     "en": "I am very sorry for the inconvenience; we will sort this out as quickly as possible."},
    {"code": "ticket", "title_zh": "已建工单", "title_en": "Ticket opened",
     "zh": "我已为您创建工单，处理进展会第一时间通知您。",
     "en": "I have opened a ticket for you and will keep you posted on its progress."},
    {"code": "anything_else", "title_zh": "还有其他问题吗", "title_en": "Anything else",
     "zh": "请问还有其他可以帮您的吗？", "en": "Is there anything else I can help you with?"},
    {"code": "closing", "title_zh": "结束语", "title_en": "Closing",
     "zh": "感谢您的耐心，祝您生活愉快！", "en": "Thank you for your patience, have a nice day!"},
]


def canned_replies(language: str) -> list[dict[str, str]]:
    """Canned replies in `language` ("zh"/"en") without variables: the console's picker inserts them as they are
    (replies with variables come filled from GET /handoffs/{id}/canned)."""
    lang = "en" if language == "en" else "zh"
    return [{"code": c["code"], "title": c[f"title_{lang}"], "text": c[lang]} for c in CANNED if "{" not in c[lang]]
