"""Kefu's custom actions (rasa-sdk). They reach the CRM only through `actions.crm_client`."""
