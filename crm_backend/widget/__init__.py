"""The embeddable website chat widget (JS/CSS served at /widget/…) and the /demo host page."""
