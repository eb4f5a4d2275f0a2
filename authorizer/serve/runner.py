"""The aiohttp runner, with connections that never echo a request they cannot parse.

For a malformed request (a bad header line, a bad request line, an oversized field) aiohttp
answers 400 with a text quoting the offending bytes, and logs them in a traceback; a header line
may hold a credential. aiohttp has no public hook for these answers (aio-libs/aiohttp#3287), so the
runner builds its connection handlers itself: they answer with API Gateway-like fixed bodies and
write one access-log line naming the error's type only. That overrides `AppRunner._make_server`, a
private method: pyproject.toml keeps aiohttp below 4, and tests/test_serve_malformed.py fails if it
stops taking effect.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

access_log = logging.getLogger("authorizer.serve.access")
log = logging.getLogger("authorizer.serve")

BAD_REQUEST = {"message": "Bad Request"}
_TIMED_OUT = {"message": "Endpoint request timed out"}
_INTERNAL = {"message": "Internal server error"}


class _Handler(RequestHandler):
    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """A fixed body for any error aiohttp answers itself; `message` (the request's bytes) is dropped."""
        if request.writer.output_size > 0:  # as aiohttp: part of a response is out, the connection is broken
            raise ConnectionError("an error after the response started")
        name = type(exc).__name__ if exc is not None else "error"
        if status < 500:
            access_log.info('- - %d malformed-request reason="unparseable request (%s); not repeated"', status, name)
        else:
            log.error("internal error in the local gateway (not an API Gateway behaviour): %s", name, exc_info=exc)
        body = BAD_REQUEST if status < 500 else _TIMED_OUT if status == 504 else _INTERNAL
        response = web.json_response(body, status=status)
        response.force_close()
        return response


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        # None turns aiohttp's access log off (documented for AppRunner; its annotation says Logger)
        return _Handler(self, loop=asyncio.get_running_loop(), access_log=None)  # type: ignore[arg-type]


class GatewayRunner(web.AppRunner):
    """`web.AppRunner` for the gateway: the app's lifecycle as usual, our connection handlers, no
    aiohttp access log (the app writes its own)."""

    def __init__(self, app: web.Application) -> None:
        super().__init__(app, access_log=None, handle_signals=False)

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()  # starts the application
        return _Server(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
        )
