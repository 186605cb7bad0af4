"""Supervisor dashboard KPIs."""
