"""Helpers of bench/banking77_study.py."""
