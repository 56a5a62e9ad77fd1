"""Checks of the lifecycle area."""
