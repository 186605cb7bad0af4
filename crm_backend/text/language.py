"""Language detection by the share of CJK characters."""

from typing import Literal

Language = Literal["zh", "en"]

# A message is Chinese when at least this share of its letters are CJK ideographs:
# mixed messages such as "我的order到哪了" are Chinese for the customer who wrote them.
CJK_THRESHOLD = 0.2


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF


def cjk_ratio(text: str) -> float:
    """Share of CJK ideographs among the letters of ``text`` (0 when it has no letters)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if _is_cjk(c)) / len(letters)


def detect_language(text: str, *, default: Language = "en") -> Language:
    """``"zh"`` when enough of the letters are CJK, ``"en"`` when there are Latin letters, else ``default``."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return default
    return "zh" if cjk_ratio(text) >= CJK_THRESHOLD else "en"
