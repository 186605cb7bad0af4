"""The modules behind `./kefu` (scripts/kefu.py), one per concept. Standard library only."""
