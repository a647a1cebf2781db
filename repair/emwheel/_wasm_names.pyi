def read_plain_imports(
    payload: bytes,
    pos: int,
    count: int,
    names: list[bytes],
    groups: bytearray,
    kinds: bytearray,
    /,
) -> tuple[int, int]: ...
def read_plain_exports(
    payload: bytes, pos: int, count: int, names: list[bytes], /
) -> tuple[int, int]: ...
