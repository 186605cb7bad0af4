"""The console's string tables: every key in both languages, and a label for every enum value the pages show."""

from __future__ import annotations

import re

from crm_backend.console.pages import STATIC, strings
from crm_backend.handoff.models import PRIORITY_RANK, HandoffStatus
from crm_backend.knowledge.models import CATEGORIES
from crm_backend.knowledge.models import STATUSES as ARTICLE_STATUSES
from crm_backend.order.models import ORDER_STATUSES
from crm_backend.ticket.models import STATUSES as TICKET_STATUSES
from crm_backend.tier.rules import TIER_ORDER


def test_every_key_exists_in_both_languages_and_is_not_empty() -> None:
    table = strings()
    assert set(table) == {"zh", "en"}
    assert sorted(set(table["zh"]) - set(table["en"])) == []
    assert sorted(set(table["en"]) - set(table["zh"])) == []
    assert [k for lang in table for k, v in table[lang].items() if not v.strip()] == []


def test_every_enum_value_shown_has_a_label() -> None:
    expected = ([f"priority_{p}" for p in PRIORITY_RANK] + [f"status_{s}" for s in HandoffStatus.ACTIVE]
                + ["status_resolved", "bool_true", "bool_false", "lang_zh", "lang_en"]
                + [f"tier_{t}" for t in TIER_ORDER] + [f"order_{s}" for s in ORDER_STATUSES]
                + [f"ticket_{s}" for s in TICKET_STATUSES] + [f"category_{c}" for c in CATEGORIES]
                + [f"kb_{s}" for s in ARTICLE_STATUSES])
    assert [k for k in expected if k not in strings()["zh"]] == []


def test_keys_used_by_the_scripts_exist() -> None:
    used = set()
    for path in STATIC.glob("*.js"):
        used |= set(re.findall(r"\bt\(\"([a-z_]+)\"\)", path.read_text(encoding="utf-8")))
    assert len(used) > 20
    assert sorted(used - set(strings()["zh"])) == []
