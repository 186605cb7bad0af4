"""Feedback: CSAT, NPS and suggestions; low scores open a follow-up ticket."""
