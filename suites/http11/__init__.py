"""Checks of the http11 area."""
