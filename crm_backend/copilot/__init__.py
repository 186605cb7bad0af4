"""Agent copilot: the handoff summary and canned replies filled from the handoff's customer."""
