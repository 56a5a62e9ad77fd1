"""Checks of the coroutines area."""
