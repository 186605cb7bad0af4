"""Customer messages each canned reply answers, per language: canned replies are ranked by how close the
customer's message is to these (message to message compares far better than message to reply).

Written by hand from the replies' purpose; the held-out copilot questions were never used to write them.
"""

from __future__ import annotations

CUES: dict[str, dict[str, list[str]]] = {
    "greeting": {
        "en": ["hello, is anyone there?", "hi, I need some help"],
        "zh": ["你好，在吗？", "有人吗，我想咨询一下"]},
    "greeting_name": {
        "en": ["hello, I want to talk to a person", "hi, can a human help me"],
        "zh": ["你好，我要找人工客服", "转人工"]},
    "order_status": {
        "en": ["where is my order?", "my parcel has not arrived yet", "has my order shipped?"],
        "zh": ["我的订单到哪了？", "快递怎么还没到", "订单发货了吗？"]},
    "points_balance": {
        "en": ["how many points do I have?", "what is my points balance?"],
        "zh": ["我有多少积分？", "查一下我的积分余额"]},
    "checking": {
        "en": ["can you check this for me?", "please look into it"],
        "zh": ["帮我查一下", "你能帮我看看吗？"]},
    "sorry": {
        "en": ["this is terrible, I am very angry", "the item arrived broken", "I want to complain",
               "nobody answers me, awful service"],
        "zh": ["太差了，非常生气", "东西坏了，我要投诉", "客服一直不回复", "收到的商品是坏的"]},
    "ticket": {
        "en": ["please open a ticket for this", "I want this followed up"],
        "zh": ["帮我登记一下，跟进处理", "给我建个工单"]},
    "anything_else": {
        "en": ["ok, that answers my question", "got it, thanks"],
        "zh": ["好的，明白了", "行，知道了"]},
    "closing": {
        "en": ["thanks, bye", "that is all, thank you"],
        "zh": ["谢谢，再见", "没有了，谢谢"]},
}
