"""Kefu's custom Rasa components (NLU) and channels (`bot.channels`)."""
