"""Compressed bodies both ways: zstd or gzip, chosen by ``Accept-Encoding`` and read by ``Content-Encoding``.

Requests (``decode_body``, called by ``limits.BodyLimit``): a body sent with ``Content-Encoding: zstd`` or
``gzip`` is decompressed in steps of 64 KiB and refused (413) as soon as it grows past the server's body limit,
so a small body that would expand to gigabytes (a "zip bomb") never does; an encoding the server does not know
is answered 415 with the encodings it does (``Accept-Encoding``, RFC 7694), a body that is not what it claims
to be 400. Responses (``ResponseCompression``): the sync answers (``/v1/`` JSON except enrolment) of at least
``wire.COMPRESS_MIN_BYTES`` are compressed with the first of zstd, gzip the request accepts; a client that
accepts neither (an older tablet, a test) gets them as before. Enrolment answers and the office's HTML pages
(``/office``) are never compressed: they hold a credential or a form token next to what the requester sent, which
is what a compression side channel (BREACH) needs.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import zstandard
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from field_agent.protocol.wire import API_PREFIX, COMPRESS_MIN_BYTES, CONTENT_ENCODINGS

STEP = 64 * 1024
# bodies at least this large are (de)compressed in a worker thread, not in the event loop
IN_THREAD_BYTES = 64 * 1024
ZSTD_LEVEL = 3
GZIP_LEVEL = 6
ACCEPTED = ", ".join(CONTENT_ENCODINGS)
# answers never compressed (see the module's docstring)
_NOT_COMPRESSED = (f"{API_PREFIX}/enroll",)


class BodyTooLarge(Exception):
    """The decompressed body outgrew the limit."""


class BadEncoding(Exception):
    """The body is not valid data of its declared encoding, or the encoding is unknown (``unknown`` True)."""

    def __init__(self, message: str, *, unknown: bool = False) -> None:
        super().__init__(message)
        self.unknown = unknown


def decode_body(encoding: str, body: bytes, max_bytes: int) -> bytes:
    """The body decompressed from ``encoding`` (``identity`` or empty: as it is), at most ``max_bytes`` long."""
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return body
    if name == "zstd":
        return _unzstd(body, max_bytes)
    if name in ("gzip", "x-gzip"):
        return _gunzip(body, max_bytes)
    raise BadEncoding(
        f"Content-Encoding {_shown(name)} is not supported: send the body as {ACCEPTED} or plain", unknown=True
    )


def _shown(name: str) -> str:
    """An encoding name as an error message may quote it (the client chose it: short, printable, no quotes)."""
    return repr("".join(char for char in name[:32] if char.isprintable()))


def _unzstd(body: bytes, max_bytes: int) -> bytes:
    out = io.BytesIO()
    try:
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body), read_across_frames=True) as reader:
            while chunk := reader.read(STEP):
                out.write(chunk)
                if out.tell() > max_bytes:
                    raise BodyTooLarge
    except zstandard.ZstdError as error:
        raise BadEncoding("the body is not valid zstd data") from error
    if body and not out.tell():  # a frame cut short in its header reads as nothing; nobody compresses nothing
        raise BadEncoding("the body is not valid zstd data")
    return out.getvalue()


def _gunzip(body: bytes, max_bytes: int) -> bytes:
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    parts: list[bytes] = []
    size = 0
    pending = body
    try:
        while pending:
            chunk = decompressor.decompress(pending, STEP)
            size += len(chunk)
            if size > max_bytes:
                raise BodyTooLarge
            parts.append(chunk)
            pending = decompressor.unconsumed_tail
            if decompressor.eof:
                break
    except zlib.error as error:
        raise BadEncoding("the body is not valid gzip data") from error
    if not decompressor.eof or decompressor.unused_data:
        raise BadEncoding("the body is not valid gzip data (cut short, or followed by other bytes)")
    return b"".join(parts)


def accepted_encoding(header: str | None) -> str | None:
    """The encoding to answer in: the first of ``CONTENT_ENCODINGS`` the ``Accept-Encoding`` header accepts."""
    if not header:
        return None
    accepted: dict[str, float] = {}
    for item in header.lower().split(","):
        name, _, params = item.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        accepted[name.strip()] = weight
    for encoding in CONTENT_ENCODINGS:
        weight = accepted.get(encoding, accepted.get("*", 0.0))
        if weight > 0:
            return encoding
    return None


def compress(encoding: str, body: bytes) -> bytes:
    if encoding == "zstd":
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(body)
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


async def off_loop(function: Callable[..., bytes], *args: Any) -> bytes:
    """``function(*args)`` on a large body: in a worker thread, so the event loop keeps serving other requests."""
    size = max((len(arg) for arg in args if isinstance(arg, bytes)), default=0)
    if size < IN_THREAD_BYTES:
        return function(*args)
    return await anyio.to_thread.run_sync(function, *args)


class ResponseCompression:
    """ASGI middleware compressing the sync answers a client accepts compressed (see the module's docstring).

    Only whole answers (one body message) are compressed; a streamed answer passes as it is."""

    def __init__(self, app: ASGIApp, minimum: int = COMPRESS_MIN_BYTES) -> None:
        self.app = app
        self.minimum = minimum

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        encoding = (
            accepted_encoding(Headers(scope=scope).get("accept-encoding"))
            if path.startswith(API_PREFIX + "/") and path not in _NOT_COMPRESSED
            else None
        )
        if encoding is None:
            await self.app(scope, receive, send)
            return
        start: Message | None = None

        async def compressing(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            headers = MutableHeaders(scope=start)
            body = message.get("body", b"")
            whole = not message.get("more_body", False)
            if whole and len(body) >= self.minimum and "content-encoding" not in headers:
                body = await off_loop(compress, encoding, body)
                headers["Content-Encoding"] = encoding
                headers["Content-Length"] = str(len(body))
                message = {**message, "body": body}
            if whole:
                headers.add_vary_header("Accept-Encoding")
            await send(start)
            start = None
            await send(message)

        await self.app(scope, receive, compressing)
