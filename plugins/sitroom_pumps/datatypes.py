"""Turning 16-bit Modbus registers into numbers and back, for every vendor's byte layout.

Modbus only defines 16-bit registers sent big-endian. Anything wider is a vendor's choice:
the same float arrives as ABCD, CDAB, BADC or DCBA depending on the PLC. We therefore keep
the two choices apart, as the vendor manuals do: `byte_order` inside each register and
`word_order` across registers. The encoder exists for the simulator and the tests; the
decoder never raises on register contents (NaN and garbage are the caller's to judge).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Literal

DataType = Literal[
    "bool", "bit", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "string"
]
Order = Literal["big", "little"]

# struct format (big-endian) and register count of each fixed-width numeric type
_NUMERIC: dict[str, tuple[str, int]] = {
    "u16": (">H", 1),
    "i16": (">h", 1),
    "u32": (">I", 2),
    "i32": (">i", 2),
    "u64": (">Q", 4),
    "i64": (">q", 4),
    "f32": (">f", 2),
    "f64": (">d", 4),
}
BIT_TYPES = frozenset({"bool"})
REGISTER_TYPES = frozenset({"bit", "string", *_NUMERIC})


def register_width(data_type: str, length: int | None = None) -> int:
    """Registers (or bits, for `bool`) one value occupies."""
    if data_type in ("bool", "bit"):
        return 1
    if data_type == "string":
        if not length or length < 1:
            raise ValueError("string needs a length in registers")
        return length
    return _NUMERIC[data_type][1]


def _to_bytes(registers: Sequence[int], byte_order: Order, word_order: Order) -> bytes:
    words = list(registers)
    if word_order == "little":
        words.reverse()
    raw = bytearray()
    for word in words:
        pair = (int(word) & 0xFFFF).to_bytes(2, "big")
        raw += pair[::-1] if byte_order == "little" else pair
    return bytes(raw)


def _from_bytes(raw: bytes, byte_order: Order, word_order: Order) -> list[int]:
    words = []
    for index in range(0, len(raw), 2):
        pair = raw[index : index + 2]
        words.append(int.from_bytes(pair[::-1] if byte_order == "little" else pair, "big"))
    if word_order == "little":
        words.reverse()
    return words


def decode(
    registers: Sequence[int],
    data_type: str,
    *,
    byte_order: Order = "big",
    word_order: Order = "big",
    bit: int | None = None,
) -> float | str:
    """Decode one value from exactly `register_width()` registers.

    `bit` numbers bits from the least significant (0) of the register as the device sends
    it, which is how PLC manuals write "status word bit 3". Strings drop NUL padding; they
    are left for the caller to sanitise.
    """
    if data_type == "bool":
        return 1.0 if registers[0] else 0.0
    if data_type == "bit":
        word = int(registers[0]) & 0xFFFF
        if byte_order == "little":
            word = int.from_bytes(word.to_bytes(2, "big"), "little")
        return float((word >> (bit or 0)) & 1)
    if data_type == "string":
        # For strings "word_order" is meaningless; byte_order swaps the pair in each register.
        raw = _to_bytes(registers, byte_order, "big")
        return raw.split(b"\x00", 1)[0].decode("latin-1")
    fmt, width = _NUMERIC[data_type]
    if len(registers) != width:
        raise ValueError(f"{data_type} needs {width} registers, got {len(registers)}")
    return float(struct.unpack(fmt, _to_bytes(registers, byte_order, word_order))[0])


def encode(
    value: float | str,
    data_type: str,
    *,
    byte_order: Order = "big",
    word_order: Order = "big",
    length: int | None = None,
) -> list[int]:
    """The registers a device would hold for `value` (the simulator's side of `decode`).

    Integers are rounded and clamped to the type's range, as a PLC's conversion would,
    so a simulated reading never wraps around.
    """
    if data_type in ("bool", "bit"):
        return [1 if value else 0]
    if data_type == "string":
        width = register_width("string", length)
        raw = str(value).encode("latin-1", "replace")[: width * 2].ljust(width * 2, b"\x00")
        return _from_bytes(raw, byte_order, "big")
    fmt, _width = _NUMERIC[data_type]
    if data_type.startswith(("u", "i")):
        bits = int(data_type[1:])
        low, high = (0, 2**bits - 1) if data_type[0] == "u" else (-(2 ** (bits - 1)),
                                                                   2 ** (bits - 1) - 1)
        number: float | int = min(high, max(low, round(float(value))))
    else:
        number = float(value)
    return _from_bytes(struct.pack(fmt, number), byte_order, word_order)
