"""Kefu's Rasa channels: a Redis-backed socket.io channel for the website widget, WeChat Official
Account, and thin subclasses of Rasa's Telegram and Slack connectors (stand-in API servers, 403 on
forged requests, replay protection). See docs/notes/channels.md."""
