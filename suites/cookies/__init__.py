"""Checks of the cookies area."""
