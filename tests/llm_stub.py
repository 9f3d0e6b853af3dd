"""A chat-completions endpoint on 127.0.0.1 for the tests of the LLM clients (no mocks of httpx): it
answers what the test scripts, from a real HTTP server in a thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: (status, body, seconds to wait before answering)
Reply = tuple[int, bytes, float]


def completion(content: str, status: int = 200, delay_s: float = 0.0) -> Reply:
    """A chat completion whose first choice says ``content``."""
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
    return status, json.dumps(body).encode(), delay_s


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    """Listen backlog: the default 5 makes concurrent clients' connects wait for SYN retries (1 s)."""


@dataclass
class StubServer:
    """A chat-completions endpoint in a thread; ``reply(call number from 1, request body)`` scripts it.

    Ready once entered (``HTTPServer`` binds and listens in its constructor)."""

    reply: Callable[[int, dict], Reply] = lambda call, body: completion('{"ok": true}')
    calls: list[dict] = field(default_factory=list)
    base_url: str = ""
    _closing: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> StubServer:
        stub, lock = self, threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    stub.calls.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    call = len(stub.calls)
                status, payload, delay_s = stub.reply(call, body)
                stub._closing.wait(delay_s)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        return self

    def __exit__(self, *exc) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
