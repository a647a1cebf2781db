_Data = bytes | bytearray | memoryview

TABLE_SIZE: int

def skip_ordinary(data: _Data, pos: int, last: int, table: bytes, /) -> int: ...
def skip_functions(
    data: _Data, pos: int, end: int, count: int, table: bytes, /
) -> tuple[int, int]: ...
