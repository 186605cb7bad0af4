"""Language detection by CJK ratio."""

from crm_backend.text.language import cjk_ratio, detect_language


def test_detects_chinese_english_and_mixed() -> None:
    assert detect_language("我的快递到哪了") == "zh"
    assert detect_language("where is my parcel") == "en"
    assert detect_language("我的order到哪了") == "zh"
    assert detect_language("my 快递 is late, where is it now") == "en"


def test_no_letters_uses_default() -> None:
    assert detect_language("12345 ???") == "en"
    assert detect_language("😀", default="zh") == "zh"
    assert cjk_ratio("") == 0.0
