"""Tickets: complaints, requests and callbacks with a status workflow and SLA."""
