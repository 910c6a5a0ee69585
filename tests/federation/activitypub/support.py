"""A fake remote fediverse server on 127.0.0.1, and helpers to sign requests as it."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from shared.infrastructure.activitypub.actors import generate_keypair, parse_private_key
from shared.infrastructure.activitypub.signatures import signed_headers


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def activity(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class FakeRemote:
    """One remote account, ``remote@127.0.0.1:<port>``, with its own keypair, actor, WebFinger and inbox.

    ``inbox_status`` is the status its inbox returns. With
    ``hold_creates_after`` set and ``hold`` clear, each Create after that
    many waits for ``hold`` and then returns 503, as a server that never
    finished the request would.
    """

    username: str = "remote"
    inbox_status: int = 202
    # When set, every Create after this many is held as described above.
    hold_creates_after: int | None = None
    received: list[ReceivedRequest] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)
    waiting: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.public_pem, private_pem = generate_keypair()
        self.private_key = parse_private_key(private_pem)
        self.hold.set()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeRemote:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    @property
    def actor_uri(self) -> str:
        return f"{self.base_url}/users/{self.username}"

    @property
    def key_id(self) -> str:
        return f"{self.actor_uri}#main-key"

    @property
    def inbox(self) -> str:
        return f"{self.actor_uri}/inbox"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base_url}/inbox"

    def actor_document(self) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.actor_uri, "type": "Person", "preferredUsername": self.username, "name": "Remote Person",
            "inbox": self.inbox, "outbox": f"{self.actor_uri}/outbox", "followers": f"{self.actor_uri}/followers",
            "endpoints": {"sharedInbox": self.shared_inbox},
            "publicKey": {"id": self.key_id, "owner": self.actor_uri, "publicKeyPem": self.public_pem},
        }

    def record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.received.append(request)

    def accepted(self, activity_type: str | None = None) -> list[ReceivedRequest]:
        """Return the inbox deliveries that got a 2xx response, optionally of one activity type."""
        with self._lock:
            found = [item for item in self.received if 200 <= item.status < 300]
        return [item for item in found if activity_type is None or item.activity.get("type") == activity_type]

    def signed(self, method: str, url: str, body: bytes | None, key_id: str | None = None, **overrides) -> dict[str, str]:
        """Headers that sign a request to ``url`` as this remote (or under ``key_id``)."""
        return signed_headers(method, url, body, key_id or self.key_id, self.private_key, **overrides)

    def activity(self, activity_type: str, activity_object: Any, suffix: str = "1", **extra: Any) -> dict[str, Any]:
        return {
            "@context": "https://www.w3.org/ns/activitystreams", "id": f"{self.actor_uri}/activities/{activity_type.lower()}-{suffix}",
            "type": activity_type, "actor": self.actor_uri, "object": activity_object, **extra,
        }


def _handler_for(remote: FakeRemote) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes = b"", content_type: str = "application/activity+json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except BrokenPipeError:
                pass  # the sender went away, as a killed EventProcessor does

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            remote.fetched.append(self.path)
            if parts.path == f"/users/{remote.username}":
                self._send(200, json.dumps(remote.actor_document()).encode())
            elif parts.path == "/.well-known/webfinger":
                resource = parse_qs(parts.query).get("resource", [""])[0]
                if resource.lower() != f"acct:{remote.username}@{remote.host}":
                    self._send(404, b"{}", "application/jrd+json")
                    return
                document = {"subject": resource, "links": [
                    {"rel": "self", "type": "application/activity+json", "href": remote.actor_uri}]}
                self._send(200, json.dumps(document).encode(), "application/jrd+json")
            else:
                self._send(404, b"{}")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            creates_so_far = sum(1 for item in remote.received if b'"type":"Create"' in item.body)
            holding = remote.hold_creates_after is not None and b'"type":"Create"' in body and creates_so_far >= remote.hold_creates_after
            if holding and not remote.hold.is_set():
                remote.waiting.set()
                remote.hold.wait(60)
                status = 503
            else:
                status = remote.inbox_status
            remote.record(ReceivedRequest(self.path, headers, body, status))
            self._send(status, b"{}")

    return Handler
