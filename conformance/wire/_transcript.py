"""A record of every byte the kit exchanged on one connection, for failure messages."""

from __future__ import annotations

from dataclasses import dataclass, field

_ENTRY_LIMIT = 1500
_TOTAL_LIMIT = 6000


@dataclass
class Transcript:
    """Bytes sent (``>>``) and received (``<<``), in order, plus notes (``--``)."""

    entries: list[tuple[str, bytes | str]] = field(default_factory=list)

    def sent(self, data: bytes) -> None:
        self._add(">>", data)

    def received(self, data: bytes) -> None:
        self._add("<<", data)

    def note(self, text: str) -> None:
        self.entries.append(("--", text))

    def _add(self, direction: str, data: bytes) -> None:
        # Consecutive reads are merged: segment boundaries on the receive side are the
        # kernel's business, not the implementation's.
        if self.entries and self.entries[-1][0] == direction == "<<":
            previous = self.entries[-1][1]
            assert isinstance(previous, bytes)
            self.entries[-1] = (direction, previous + data)
        else:
            self.entries.append((direction, bytes(data)))

    def format(self) -> str:
        lines: list[str] = []
        total = 0
        for direction, data in self.entries:
            text = data if isinstance(data, str) else _show(data)
            if total + len(text) > _TOTAL_LIMIT:
                lines.append(f"   ... ({len(self.entries) - len(lines)} more entries not shown)")
                break
            total += len(text)
            lines.append(f"   {direction} {text}")
        return "\n".join(lines) if lines else "   (no bytes exchanged)"


def _show(data: bytes) -> str:
    if len(data) > _ENTRY_LIMIT:
        head = repr(data[: _ENTRY_LIMIT // 2])
        return f"{head} ... ({len(data)} bytes in all)"
    return repr(data)
