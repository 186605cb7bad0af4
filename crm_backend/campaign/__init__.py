"""Surveys the CRM asks the bot to open in a customer's conversation (CSAT after a resolved ticket, NPS)."""
