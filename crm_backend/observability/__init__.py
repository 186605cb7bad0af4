"""Operations: what the CRM tells Prometheus about its queue, tickets and kept work (docs/notes/operations.md)."""
