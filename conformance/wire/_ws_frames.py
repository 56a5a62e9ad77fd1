"""Raw RFC 6455 frames: built for what wsproto would never send, parsed for what it never reports.

Rules:

1. `frame` lays one frame out as RFC 6455 §5.2 says, whatever its bits (a reserved
   opcode, RSV bits, a control frame too long...): negative checks inject these.
2. `parse_frames` reads frames as they were on the wire (masked or not, every bit kept),
   stopping at the first incomplete one; it judges nothing.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

# Opcodes, RFC 6455 §5.2.
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def _apply_mask(payload: bytes, key: bytes) -> bytes:
    """XOR with the 4-byte masking key (RFC 6455 §5.3): masks and unmasks alike."""
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, mask: bool = True) -> bytes:
    """One raw frame as RFC 6455 §5.2 lays it out, for injecting what wsproto would refuse.

    ``rsv`` is the three RSV bits as an int (0b100 = RSV1). Client frames are masked.
    """
    first = (0x80 if fin else 0) | ((rsv & 0b111) << 4) | (opcode & 0x0F)
    length = len(payload)
    mask_bit = 0x80 if mask else 0
    if length < 126:
        head = struct.pack("!BB", first, mask_bit | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, length)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + _apply_mask(payload, key)


@dataclass
class RawFrame:
    """One frame as the peer put it on the wire (RFC 6455 §5.2)."""

    fin: bool
    rsv: int
    opcode: int
    masked: bool
    payload: bytes  #: unmasked


def parse_frames(data: bytes) -> list[RawFrame]:
    """The complete frames in ``data`` (bytes sent after the opening handshake)."""
    frames: list[RawFrame] = []
    pos = 0
    while len(data) - pos >= 2:
        first, second = data[pos], data[pos + 1]
        length, head = second & 0x7F, 2
        if length >= 126:
            # 126: a 16-bit length follows; 127: a 64-bit one.
            fmt, head = ("!H", 4) if length == 126 else ("!Q", 10)
            if len(data) - pos < head:
                break
            (length,) = struct.unpack(fmt, data[pos + 2 : pos + head])
        masked = bool(second & 0x80)
        start = pos + head + (4 if masked else 0)  # after the masking key, when there is one
        if len(data) < start + length:
            break
        payload = data[start : start + length]
        if masked:
            payload = _apply_mask(payload, data[start - 4 : start])
        frames.append(RawFrame(bool(first & 0x80), (first >> 4) & 0b111, first & 0x0F, masked, payload))
        pos = start + length
    return frames
