"""The caller's audio to the model as WebSocket text frames written straight to the socket.

Every call sends the model fifty `input_audio_buffer.append` events a second. Through
`websockets`' `Connection.send`, each one pays for an async context manager, a frame
object and a `getrandom` system call for its 4-byte mask: about a sixth of the web
process's CPU at 150 calls (py-spy), more than the socket write itself. This writer builds
the same bytes (RFC 6455 §5.2: FIN, text opcode, the client's mask, the length), masks them
with the library's own C helper, takes masks from a pool filled by `os.urandom` (each is
still from the operating system's CSPRNG, as §5.3 requires, with one system call per 1,024
frames), and writes the frame to the connection's transport.

It only does so while the connection is plainly open and writable. When it is closing,
sending a fragmented message, has negotiated an extension, or its socket buffer is full,
`try_write` returns False and the caller sends through `Connection.send`, which waits for
the buffer, raises `ConnectionClosed` or closes as the library does.
"""

import os

from websockets.asyncio.connection import Connection
from websockets.frames import apply_mask
from websockets.protocol import State

MASK_BYTES = 4
MASK_POOL_BYTES = 1024 * MASK_BYTES
FIN_TEXT = 0x81  # FIN set, opcode 1 (text)
MASKED = 0x80
LENGTH_16_BITS = 126
LENGTH_64_BITS = 127


class MaskPool:
    """Unpredictable 4-byte masks, read from `os.urandom` a pool at a time."""

    def __init__(self, size: int = MASK_POOL_BYTES):
        self._size = size
        self._pool = b""
        self._offset = 0

    def take(self) -> bytes:
        if self._offset + MASK_BYTES > len(self._pool):
            self._pool = os.urandom(self._size)
            self._offset = 0
        mask = self._pool[self._offset : self._offset + MASK_BYTES]
        self._offset += MASK_BYTES
        return mask


def client_text_frame(data: bytes, mask: bytes) -> bytes:
    """One unfragmented, masked text frame carrying `data` (UTF-8)."""
    length = len(data)
    if length < LENGTH_16_BITS:
        header = bytes((FIN_TEXT, MASKED | length))
    elif length < 1 << 16:
        header = bytes((FIN_TEXT, MASKED | LENGTH_16_BITS)) + length.to_bytes(2, "big")
    else:
        header = bytes((FIN_TEXT, MASKED | LENGTH_64_BITS)) + length.to_bytes(8, "big")
    return header + mask + apply_mask(data, mask)


class TextFrameWriter:
    """Writes text messages to one client connection without going through `send`."""

    def __init__(self, connection: Connection, *, masks: MaskPool | None = None):
        self._connection = connection
        self._masks = masks or MaskPool()

    def try_write(self, text: str) -> bool:
        """Write `text` as one frame now; False (nothing written) when the connection is not
        open and writable, so that `Connection.send` handles it."""
        connection = self._connection
        if (
            connection.protocol.state is not State.OPEN
            or connection.protocol.extensions
            or connection.send_in_progress is not None
            or connection.paused
            or connection.transport.is_closing()
        ):
            return False
        connection.transport.write(client_text_frame(text.encode(), self._masks.take()))
        return True
