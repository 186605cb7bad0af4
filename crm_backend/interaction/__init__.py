"""Interactions: one summary per bot conversation."""
