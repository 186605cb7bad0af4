"""Developer commands: ./kefu (kefu.py + kefu_cli/), the terminal chat and the NLU gates."""
