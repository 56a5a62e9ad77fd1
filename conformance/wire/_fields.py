"""Reading field lines as h11 gives them (names lower-cased), for requests and responses alike."""

from __future__ import annotations


class FieldLookup:
    """Mixin for a message with ``headers``: a list of (lower-cased name, value) pairs."""

    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        """All values of ``name`` joined with ", " (RFC 9110 §5.3), or None when absent."""
        values = self.header_list(name)
        return ", ".join(values) if values else None

    def header_list(self, name: str) -> list[str]:
        lowered = name.lower()
        return [v for k, v in self.headers if k == lowered]
