"""Escalation policy: when the bot hands a conversation to a human, and how urgently."""
