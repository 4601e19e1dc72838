"""The HTTP layer's guards: what a client can do to the service before any route runs.

- :class:`GuardedH11Protocol` (uvicorn's h11 protocol with two more timers): a request's
  head must be complete ``header_seconds`` after its first byte and its body
  ``body_seconds`` after its head, else the connection gets 408 and is closed (a client
  sending a header line every few seconds, or a body that never ends, holds nothing).
- :class:`BodyGuard` (ASGI): bodies above ``max_body_bytes`` get 413 from their declared
  length, or as soon as the stream passes it, without reading the rest; a JSON body must
  be declared as JSON, parse, hold no duplicate key and no NaN/Infinity — each refused
  with a message a person understands, naming the field where there is one.
- :class:`ResponseGuard` (ASGI): ``HEAD`` on every ``GET`` route, and the security
  headers on every answer (``no-store`` on anything behind a token or key).

The numbers are the rules file's ``service.http``; docs/operations.md says what a reverse
proxy in front should set to match.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from grid_models import load_rules

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_HTTP = load_rules().get("service.http")


def _raw_answer(status: str, detail: str) -> bytes:
    body = json.dumps({"detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\nconnection: close\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


_TIMEOUT_ANSWER = _raw_answer("408 Request Timeout", "the request did not arrive in time")


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for a request's head and one for its body."""

    header_seconds: float = float(_HTTP["header_seconds"])
    body_seconds: float = float(_HTTP["body_seconds"])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_for: object = None  # h11 state the deadline is for

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._cancel()  # the keep-alive timer watches an idle connection
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def _watch(self) -> None:
        """Arm the deadline for what the client still owes: its head (state IDLE with
        bytes received) or its body (SEND_BODY). Arrival of more bytes never extends it."""
        state = self.conn.their_state
        if state is h11.IDLE and self.conn.trailing_data[0]:
            self._arm(state, self.header_seconds)
        elif state is h11.SEND_BODY:
            self._arm(state, self.body_seconds)
        elif state is not h11.IDLE:
            self._cancel()

    def _arm(self, state: object, seconds: float) -> None:
        if self._deadline is not None and self._waiting_for is state:
            return
        self._cancel()
        self._waiting_for = state
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None
        self._waiting_for = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete or not self.cycle.response_started:
            self.transport.write(_TIMEOUT_ANSWER)
        self.transport.close()


class Refused(Exception):
    """A request refused before it reaches a route: status and the detail to send."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


async def _answer(send: Send, status: int, detail: Any, headers: list[Any] | None = None) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyGuard:
    """Bounded, well-formed JSON bodies before any route reads them (see the module)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int | None = None) -> None:
        self.app = app
        self.max_body_bytes = int(max_body_bytes or _HTTP["max_body_bytes"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            body = await self._read(headers, receive)
            if body.strip():
                _check_json(headers.get("content-type", ""), body)
        except Refused as exc:
            await _answer(send, exc.status, exc.detail)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, headers: dict[str, str], receive: Receive) -> bytes:
        limit = self.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise Refused(400, "Content-Length must be a whole number of bytes")
            if int(declared) > limit:
                raise Refused(413, f"the request body is larger than {limit} bytes")
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Refused(400, "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise Refused(413, f"the request body is larger than {limit} bytes")
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)


class _NotFinite:
    """Where the JSON text held NaN or Infinity (found afterwards, to name the field)."""


def _check_json(content_type: str, body: bytes) -> None:
    media = content_type.split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise Refused(
            415,
            "send the body as JSON with the header 'Content-Type: application/json'"
            + (f" (it said {media!r})" if media else ""),
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(
            422, [{"field": "body", "msg": "the body is not UTF-8 text (JSON must be UTF-8)"}]
        ) from exc
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        parsed = json.loads(text, object_pairs_hook=pairs, parse_constant=lambda _: _NotFinite())
    except json.JSONDecodeError as exc:
        raise Refused(
            422,
            [
                {
                    "field": "body",
                    "msg": f"the body is not valid JSON: {exc.msg} "
                    f"(line {exc.lineno}, column {exc.colno})",
                }
            ],
        ) from exc
    except RecursionError as exc:
        raise Refused(422, [{"field": "body", "msg": "the body is nested too deeply"}]) from exc
    problems = [
        {"field": field, "msg": "must be a finite number (NaN and Infinity are not JSON)"}
        for field in _not_finite(parsed, "")
    ]
    problems += [
        {"field": key, "msg": "is given more than once; send each field once"}
        for key in dict.fromkeys(duplicates)
    ]
    if problems:
        raise Refused(422, problems)


def _not_finite(value: Any, path: str) -> list[str]:
    if isinstance(value, _NotFinite):
        return [path or "body"]
    if isinstance(value, dict):
        return [f for k, v in value.items() for f in _not_finite(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in _not_finite(v, f"{path}.{i}")]
    return []


#: The page and the API: scripts from the service itself only. Inline styles are allowed:
#: the reply sheet carries its print styles inline, and the page opens it as a blob, which
#: inherits the page's policy.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
#: Swagger UI starts from a small inline script.
CSP_INLINE = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
_INLINE_PATHS = ("/docs", "/redoc")
_PRIVATE_PREFIXES = ("/api/v1/applications", "/api/v1/planner", "/api/v1/what-if")


class ResponseGuard:
    """HEAD answered as GET without a body; the security headers on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        path: str = scope.get("path", "")
        names = {k.lower() for k, _ in scope.get("headers", [])}
        private = (
            path.startswith(_PRIVATE_PREFIXES) or b"authorization" in names or b"x-api-key" in names
        )
        inline = path.startswith(_INLINE_PATHS)

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if not (private and k.lower() == b"cache-control")
                ]
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"content-security-policy", (CSP_INLINE if inline else CSP).encode()),
                ]
                if private:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, guarded)
