"""Small helpers the tests share."""

from __future__ import annotations

import re

from shared.infrastructure.config import Settings, load_settings

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def settings_for(database_url: str, redis_url: str, **overrides: str) -> Settings:
    """The test environment's settings, pointed at these servers."""
    return load_settings("test", environ={"DATABASE_URL": database_url, "REDIS_URL": redis_url, **overrides})


def csrf_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def text_of(response) -> str:
    return await response.get_data(as_text=True)


def set_cookie(response, name: str) -> str:
    """Return the Set-Cookie header that sets cookie ``name``, attributes included."""
    headers = [header for header in response.headers.getlist("Set-Cookie") if header.startswith(f"{name}=")]
    assert len(headers) == 1, f"expected one Set-Cookie for {name}, got {response.headers.getlist('Set-Cookie')}"
    return headers[0]
