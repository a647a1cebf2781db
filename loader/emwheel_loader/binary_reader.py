"""Decoding the WebAssembly binary encoding: LEB128 integers, names, byte runs.

Spec: https://webassembly.github.io/spec/core/binary/values.html
"""

from __future__ import annotations

from typing import Protocol

from .errors import WasmFormatError

__all__ = ["BinaryReader", "ByteStream", "encode_name", "encode_uleb128", "read_uleb128_from"]


class BinaryReader:
    """Reads values from a buffer, tracking the position; every overrun is a WasmFormatError."""

    def __init__(self, data: bytes | memoryview, pos: int = 0, end: int | None = None) -> None:
        self.data = memoryview(data)
        self.pos = pos
        self.end = len(self.data) if end is None else end

    @property
    def at_end(self) -> bool:
        return self.pos >= self.end

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def u8(self) -> int:
        if self.pos >= self.end:
            raise WasmFormatError(f"unexpected end of data at offset {self.pos}")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def uleb(self, max_bits: int = 32) -> int:
        result = 0
        shift = 0
        start = self.pos
        while True:
            byte = self.u8()
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
            if shift >= max_bits + 7:
                raise WasmFormatError(f"LEB128 integer too long at offset {start}")
        if result >> max_bits:
            raise WasmFormatError(f"LEB128 integer out of range at offset {start}")
        return result

    def sleb(self, max_bits: int = 33) -> int:
        result = 0
        shift = 0
        start = self.pos
        while True:
            byte = self.u8()
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
            if shift >= max_bits + 7:
                raise WasmFormatError(f"LEB128 integer too long at offset {start}")
        if byte & 0x40:
            result -= 1 << shift
        return result

    def take(self, size: int) -> memoryview:
        if size < 0 or size > self.remaining:
            raise WasmFormatError(
                f"{size} bytes at offset {self.pos} run past the end (offset {self.end})"
            )
        view = self.data[self.pos : self.pos + size]
        self.pos += size
        return view

    def name(self) -> str:
        raw = self.take(self.uleb())
        try:
            return str(raw, "utf-8")
        except UnicodeDecodeError as e:
            raise WasmFormatError(f"invalid UTF-8 name at offset {self.pos - len(raw)}") from e


def encode_uleb128(value: int) -> bytes:
    if value < 0:
        raise ValueError(f"cannot encode negative value {value} as unsigned LEB128")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_name(text: str) -> bytes:
    raw = text.encode("utf-8")
    return encode_uleb128(len(raw)) + raw


class ByteStream(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def read_uleb128_from(stream: ByteStream, max_bits: int = 32) -> tuple[int, int]:
    """Read an unsigned LEB128 from a stream; return (value, number of bytes read).

    Raises EOFError at a clean end of stream (no byte read) and WasmFormatError mid-value.
    """
    result = 0
    shift = 0
    count = 0
    while True:
        byte_str = stream.read(1)
        if not byte_str:
            if count == 0:
                raise EOFError
            raise WasmFormatError("unexpected end of data inside a LEB128 integer")
        byte = byte_str[0]
        count += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
        if shift >= max_bits + 7:
            raise WasmFormatError("LEB128 integer too long")
    if result >> max_bits:
        raise WasmFormatError("LEB128 integer out of range")
    return result, count
