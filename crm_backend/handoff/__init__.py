"""Human handoff: escalations, agent replies, presence."""
