"""A Jieba tokenizer that survives mixed Chinese/English text (Rasa issue 7910)."""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True
)
class MixedJiebaTokenizer(JiebaTokenizer):
    """Jieba, minus the whitespace tokens it emits between Chinese and Latin words.

    Stock `JiebaTokenizer` keeps " " as a token in "积分 balance"; featurizers drop it later, so
    token counts and features disagree (issue 7910). Latin words keep their offsets so
    regex entity spans stay aligned.
    """

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        import jieba

        text = message.get(attribute)
        tokens = [
            Token(word, start)
            for (word, start, _end) in jieba.tokenize(text)
            if word.strip()
        ]
        return self._apply_token_pattern(tokens)
