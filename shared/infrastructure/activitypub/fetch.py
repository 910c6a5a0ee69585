"""Requests to other servers: address checks, timeouts, a size cap and a redirect limit.

Every outgoing ActivityPub request goes through ``RemoteFetcher``. Before
each connection (and each redirect hop) the host is resolved and every
address is checked: link-local, multicast, reserved and unspecified
addresses are always refused, and private and loopback ones unless the
configuration sets ``allow_private_fetch`` (dev and test do). The request
then connects to the address that was checked, so a second DNS answer cannot
swap in another one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

DEFAULT_TIMEOUT = 10.0
DEFAULT_TOTAL_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_MAX_REDIRECTS = 2
USER_AGENT = "RoseAsh/0.1 (ActivityPub)"

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """A request to another server failed or was not allowed."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"request to {url} failed: {reason}")


class FetchRefused(FetchError):
    """The URL's scheme or address is not allowed, so no connection was made."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(url, reason)
        self.args = (f"request to {url} refused: {reason}",)

    def __str__(self) -> str:
        return self.args[0]


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def address_refusal(address: IPAddress, allow_private: bool) -> str | None:
    """Return why ``address`` may not be contacted, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_link_local:
        return f"{address} is a link-local address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return f"{address} is not a unicast address"
    if address.is_loopback or address.is_private or not address.is_global:
        return None if allow_private else f"{address} is a private or loopback address"
    return None


def describe_http_error(error: httpx.HTTPError) -> str:
    """Word an httpx error as a reason people can read, without exception class names."""
    if isinstance(error, httpx.ConnectTimeout):
        return "timed out while connecting"
    if isinstance(error, httpx.TimeoutException):
        return "timed out waiting for the server"
    if isinstance(error, httpx.ConnectError):
        # httpx wraps httpcore's error, which wraps the socket's; a bounded walk guards against a cycle.
        cause: BaseException | None = error
        for _depth in range(8):
            if cause is None:
                break
            if isinstance(cause, ConnectionRefusedError):
                return "connection refused"
            cause = cause.__cause__ or cause.__context__
        return "the connection failed"
    if isinstance(error, httpx.RemoteProtocolError):
        return f"the server broke the HTTP protocol ({error})"
    if isinstance(error, httpx.ReadError | httpx.WriteError):
        return "the connection broke off"
    return f"the request failed ({error})" if str(error) else "the request failed"


@dataclass(frozen=True)
class CheckedURL:
    url: str
    host: str
    port: int
    address: str

    def pinned(self) -> str:
        """The URL with its host replaced by the checked address."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if ":" in self.address else self.address
        return urlunsplit(parts._replace(netloc=f"{literal}:{self.port}"))


async def check_url(url: str, allow_private: bool, resolver: Resolver = system_resolver) -> CheckedURL:
    """Resolve and check ``url`` before any connection; raises FetchRefused."""
    parts = urlsplit(url)
    allowed_schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed_schemes:
        raise FetchRefused(url, f"the scheme must be {' or '.join(allowed_schemes)}")
    host = parts.hostname
    if not host:
        raise FetchRefused(url, "the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchRefused(url, "the URL has an invalid port") from None
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        candidates = [str(literal)]
    else:
        try:
            candidates = await resolver(host, port)
        except OSError as error:
            raise FetchError(url, f"could not resolve {host}: {error}") from error
        if not candidates:
            raise FetchError(url, f"{host} has no address")
    for candidate in candidates:
        refusal = address_refusal(ipaddress.ip_address(candidate.split("%", 1)[0]), allow_private)
        if refusal:
            raise FetchRefused(url, refusal)
    return CheckedURL(url, host, port, candidates[0].split("%", 1)[0])


@dataclass(frozen=True)
class FetchResponse:
    url: str
    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class RemoteFetcher:
    """An HTTP client for other servers, with the checks described in this module's docstring."""

    def __init__(
        self,
        allow_private: bool,
        *,
        resolver: Resolver = system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self._client = httpx.AsyncClient(
            transport=transport, timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
    ) -> FetchResponse:
        """Send one request, following at most ``max_redirects`` redirects for GET; raises FetchError."""
        try:
            async with asyncio.timeout(self.total_timeout):
                return await self._request(method, url, content, headers or {}, auth)
        except TimeoutError:
            raise FetchError(url, f"no complete response within {self.total_timeout:g} s (timed out)") from None

    async def _request(self, method, url, content, headers, auth) -> FetchResponse:
        for _hop in range(self.max_redirects + 1):
            checked = await check_url(url, self.allow_private, self.resolver)
            response = await self._send_once(method, checked, content, headers, auth)
            location = response.headers.get("location")
            if response.status_code in (301, 302, 303, 307, 308) and location and method == "GET":
                url = urljoin(url, location)
                continue
            return response
        raise FetchError(url, f"more than {self.max_redirects} redirects")

    async def _send_once(self, method, checked: CheckedURL, content, headers, auth) -> FetchResponse:
        netloc = urlsplit(checked.url).netloc.rsplit("@", 1)[-1]
        request = self._client.build_request(
            method, checked.pinned(), content=content, headers={**headers, "Host": netloc},
            extensions={"sni_hostname": checked.host},
        )
        try:
            response = await self._client.send(request, auth=auth, stream=True)
        except httpx.HTTPError as error:
            raise FetchError(checked.url, describe_http_error(error)) from error
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise FetchError(checked.url, f"the response is {declared} bytes, more than the {self.max_bytes} allowed")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > self.max_bytes:
                    raise FetchError(checked.url, f"the response is larger than the {self.max_bytes} bytes allowed")
        except httpx.HTTPError as error:
            raise FetchError(checked.url, describe_http_error(error)) from error
        finally:
            await response.aclose()
        return FetchResponse(checked.url, response.status_code, response.headers, bytes(body))
