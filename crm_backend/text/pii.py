"""PII redaction applied before free text (tickets, feedback, transcripts) is stored or logged.

Replaces, in this order:
- e-mail addresses → ``[EMAIL]``
- Chinese resident ID numbers (17 digits + digit/X, valid birth date) → ``[ID]``
- payment card numbers (13–19 digits, optional spaces/dashes, Luhn-valid) → ``[CARD]``
- phone numbers: Chinese mobiles (1[3-9] + 9 digits, optional +86/0086), and international
  numbers (``+`` country code and 7–14 more digits, or grouped like ``(415) 555-0134``) → ``[PHONE]``
"""

import re

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Digits must not touch other digits, so a long number is not cut into a phone + rest.
_ID = re.compile(r"(?<!\d)[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])")
_CARD = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
_CN_MOBILE = re.compile(r"(?<!\d)(?:(?:\+|00)86[ -]?)?1[3-9]\d(?:[ -]?\d){8}(?!\d)")
_INTL_PHONE = re.compile(r"(?<![\w+])\+\d{1,3}[ -]?(?:\(?\d{1,4}\)?[ -]?){1,4}\d{2,4}(?!\d)")
_GROUPED_PHONE = re.compile(r"(?<!\d)(?<!\d[ -])(?:\(\d{2,4}\)\s?|\d{3,4}[ -])\d{3,4}[ -]\d{3,4}(?![ -]?\d)")


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn checksum used by payment cards."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[CARD]" if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group(0)


def redact(text: str) -> str:
    """Return ``text`` with e-mails, ID numbers, card numbers and phone numbers replaced by placeholders."""
    text = _EMAIL.sub("[EMAIL]", text)
    text = _ID.sub("[ID]", text)
    text = _CARD.sub(_card, text)
    text = _CN_MOBILE.sub("[PHONE]", text)
    text = _INTL_PHONE.sub("[PHONE]", text)
    return _GROUPED_PHONE.sub("[PHONE]", text)
