"""Lexical tokens for search: jieba words for Chinese, lower-cased stemmed words for English.

jieba loads its dictionary (≈0.8 s) on first use, never at import time.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_SPLIT = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")
_lock = threading.Lock()

# Function words that match everywhere and carry no topic.
EN_STOP = frozenset("""a an the and or but if of to in on at by for with from as is are was were be been being do does
did doing have has had having i me my mine we our us you your yours he she it its they them their this that these those
there here what which who whom whose when where why how can could would should will shall may might must not no nor so
than too very just also only into about after before over under again then once all any both each few more most other
some such own same s t don't can't won't isn't i'm it's what's get got please hi hello thanks thank want need know
tell let much many pls plz thx ok okay""".split())
# Other shops and platforms. A question naming one is about that shop, not ours (see SearchIndex.search); jieba keeps
# the Chinese names whole ("拼多多", not "拼" + "多多").
# Names that are also everyday words or stem into one ("快手", "山姆", "suning" → "sun") are left out.
OTHER_SHOPS = tuple("""淘宝 天猫 京东 拼多多 唯品会 苏宁 抖音 闲鱼 宜家 亚马逊 沃尔玛 开市客 盒马 得物
taobao tmall jd pinduoduo vipshop douyin tiktok ikea amazon walmart costco ebay shein temu""".split())
ZH_STOP = frozenset("""的 了 吗 呢 吧 啊 呀 么 是 我 你 他 她 它 我们 你们 在 有 和 与 就 都
也 还 要 会 能 可以 怎么 怎么办 如何 什么 为什么 哪 哪里 哪些 多少 几 吗 请问 请 一下 这 那
这个 那个 个 给 对 把 被 让 到 从 没 没有 不 想 问 一 下 么 啥 咋 能不能 是不是 有没有 可不可以 好 您""".split())


def _stem(word: str) -> str:
    """A light suffix stripper: 'ships'/'shipped'/'shipping' → 'ship', 'charges'/'charged' → 'charg'.

    A final 'e' and a doubled final consonant are dropped too, so the stem of a suffixed word meets the stem
    of its base form ('charge' and 'charged', 'ship' and 'shipping').
    """
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix) and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeious":
        return word[:-1]
    if len(word) > 3 and word.endswith("e") and not word.endswith("ee"):
        return word[:-1]
    return word


@lru_cache(maxsize=1)
def _jieba() -> Any:
    with _lock:
        import jieba

        jieba.setLogLevel(60)
        jieba.initialize()
        for name in OTHER_SHOPS:
            if _CJK_RUN.fullmatch(name):
                jieba.add_word(name)
        return jieba


def _chinese(run: str) -> Iterator[str]:
    for word in _jieba().cut_for_search(run):
        if word not in ZH_STOP:
            yield word


def tokens(text: str) -> list[str]:
    """Search terms of `text` (either language, mixed text too)."""
    out: list[str] = []
    for part in _SPLIT.split(text.lower()):
        if not part:
            continue
        if _CJK_RUN.fullmatch(part):
            out.extend(_chinese(part))
        else:
            out.extend(_stem(w.removesuffix("'s")) for w in _WORD.findall(part) if w not in EN_STOP)
    return out


@lru_cache(maxsize=1)
def other_shop_terms() -> frozenset[str]:
    """The search terms of OTHER_SHOPS' names (one term per name)."""
    return frozenset(name if _CJK_RUN.fullmatch(name) else _stem(name) for name in OTHER_SHOPS)
