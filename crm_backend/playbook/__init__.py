"""Playbooks: audience rule → bilingual message (+ offer) on the customer's own channel, with a holdout."""
