"""Conversation store fed by Rasa's event broker (RabbitMQ in services mode, an SQLite file otherwise)."""
