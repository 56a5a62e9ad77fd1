"""Checks of the scale area (opt-in: ``-m scale``)."""
