"""Checks of the websocket area."""
