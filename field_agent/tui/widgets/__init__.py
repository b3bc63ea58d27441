"""Reusable widgets of the terminal app, one per module."""
