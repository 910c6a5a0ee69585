"""Remote fetches: the address guard decides before any connection, and the limits hold."""

from __future__ import annotations

import httpx
import pytest

from shared.infrastructure.activitypub.fetch import FetchError, FetchRefused, RemoteFetcher, check_url


def _no_connection(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"a connection to {request.url} was attempted")


def _resolver(*addresses: str):
    requested = []

    async def resolve(host: str, port: int) -> list[str]:
        requested.append((host, port))
        return list(addresses)

    resolve.requested = requested
    return resolve


@pytest.mark.parametrize(
    "address", ["10.0.0.7", "192.168.1.1", "172.16.0.1", "127.0.0.1", "::1", "fc00::1", "169.254.169.254", "fe80::1", "0.0.0.0"]
)
async def test_private_address_from_dns_is_refused(address):
    fetcher = RemoteFetcher(False, resolver=_resolver(address), transport=httpx.MockTransport(_no_connection))
    try:
        with pytest.raises(FetchRefused):
            await fetcher.request("GET", "https://remote.example/users/a")
    finally:
        await fetcher.aclose()


@pytest.mark.parametrize("url", ["https://127.0.0.1/x", "https://[::1]/x", "https://169.254.169.254/latest", "https://10.1.2.3/"])
async def test_literal_private_address_is_refused_without_resolving(url):
    resolver = _resolver("93.184.216.34")
    with pytest.raises(FetchRefused):
        await check_url(url, False, resolver)
    assert resolver.requested == []


async def test_link_local_refused_even_in_dev():
    with pytest.raises(FetchRefused, match="link-local"):
        await check_url("http://169.254.169.254/latest/meta-data", True, _resolver())


async def test_plain_http_is_refused_in_production():
    with pytest.raises(FetchRefused, match="scheme"):
        await check_url("http://remote.example/", False, _resolver("93.184.216.34"))


async def test_one_private_address_among_public_ones_is_refused():
    with pytest.raises(FetchRefused):
        await check_url("https://remote.example/", False, _resolver("93.184.216.34", "10.0.0.1"))


async def test_loopback_is_allowed_in_dev_and_pinned():
    checked = await check_url("http://localhost:8080/users/a", True, _resolver("127.0.0.1"))
    assert checked.pinned() == "http://127.0.0.1:8080/users/a"


async def test_public_address_is_pinned_and_host_kept():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers["host"], request.extensions.get("sni_hostname")))
        return httpx.Response(200, content=b"ok")

    fetcher = RemoteFetcher(False, resolver=_resolver("93.184.216.34"), transport=httpx.MockTransport(handler))
    try:
        response = await fetcher.request("GET", "https://remote.example/users/a?x=1")
    finally:
        await fetcher.aclose()
    assert response.content == b"ok"
    assert seen == [("https://93.184.216.34/users/a?x=1", "remote.example", "remote.example")]


async def test_response_larger_than_cap_fails():
    fetcher = RemoteFetcher(
        True, transport=httpx.MockTransport(lambda request: httpx.Response(200, content=b"x" * 2048)), max_bytes=1024
    )
    try:
        with pytest.raises(FetchError, match="1024 bytes allowed|more than the 1024"):
            await fetcher.request("GET", "http://127.0.0.1:9/big")
    finally:
        await fetcher.aclose()


async def test_redirects_beyond_limit_fail():
    hops = []

    def handler(request: httpx.Request) -> httpx.Response:
        hops.append(request.url.path)
        return httpx.Response(302, headers={"Location": f"/hop{len(hops)}"})

    fetcher = RemoteFetcher(True, transport=httpx.MockTransport(handler), max_redirects=2)
    try:
        with pytest.raises(FetchError, match="redirects"):
            await fetcher.request("GET", "http://127.0.0.1:9/start")
    finally:
        await fetcher.aclose()
    assert hops == ["/start", "/hop1", "/hop2"]


async def test_redirect_to_private_address_is_refused_before_connecting():
    hops = []

    def handler(request: httpx.Request) -> httpx.Response:
        hops.append(str(request.url))
        return httpx.Response(302, headers={"Location": "https://10.0.0.5/inside"})

    fetcher = RemoteFetcher(False, resolver=_resolver("93.184.216.34"), transport=httpx.MockTransport(handler))
    try:
        with pytest.raises(FetchRefused):
            await fetcher.request("GET", "https://remote.example/start")
    finally:
        await fetcher.aclose()
    assert hops == ["https://93.184.216.34/start"]


async def test_slow_server_times_out():
    import asyncio

    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200)

    fetcher = RemoteFetcher(True, transport=httpx.MockTransport(handler), total_timeout=0.05)
    try:
        with pytest.raises(FetchError, match="no complete response"):
            await fetcher.request("GET", "http://127.0.0.1:9/slow")
    finally:
        await fetcher.aclose()
