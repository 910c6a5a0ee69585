"""WebFinger, host-meta and NodeInfo documents, and parsing WebFinger resources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from shared.infrastructure.config import Settings

from .actors import LocalActor
from .vocab import ACTIVITY_JSON

NODEINFO_21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"
NODEINFO_21_MEDIA_TYPE = f'application/json; profile="{NODEINFO_21}#"'
SOFTWARE_NAME = "rose-ash"
SOFTWARE_VERSION = "0.1.0"


class ResourceError(ValueError):
    """A WebFinger resource that is not an account or a URL."""


@dataclass(frozen=True)
class Resource:
    """A WebFinger resource reduced to what identifies an account: a user at a host, or a URL."""

    user: str | None
    host: str | None
    url: str | None


def parse_resource(resource: str | None) -> Resource:
    """Parse ``acct:user@host``, ``user@host``, ``@user@host`` or an http(s) URL; raises ResourceError."""
    value = unquote((resource or "").strip())
    if not value:
        raise ResourceError("the resource parameter is missing")
    if value.lower().startswith(("http://", "https://")):
        parts = urlsplit(value)
        if not parts.netloc:
            raise ResourceError(f"the resource {value!r} is not a valid URL")
        return Resource(None, None, value)
    if value.lower().startswith("acct:"):
        value = value[5:]
    value = value.lstrip("@")
    user, separator, host = value.rpartition("@")
    if not separator or not user or not host or "@" in user or "/" in host:
        raise ResourceError(f"the resource {resource!r} is not acct:user@host or a URL")
    return Resource(user.lower(), host.lower(), None)


def same_url(first: str, second: str) -> bool:
    """Compare two URLs with the scheme and host case-insensitive and a trailing slash ignored."""
    a, b = urlsplit(first), urlsplit(second)
    return (
        a.scheme.lower() == b.scheme.lower()
        and a.netloc.lower() == b.netloc.lower()
        and a.path.rstrip("/") == b.path.rstrip("/")
    )


def webfinger_document(actor: LocalActor) -> dict[str, Any]:
    return {
        "subject": f"acct:{actor.handle}",
        "aliases": [actor.uri, actor.profile_url],
        "links": [
            {"rel": "self", "type": ACTIVITY_JSON, "href": actor.uri},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": actor.profile_url},
        ],
    }


def host_meta_xml(public_url: str) -> str:
    template = f"{public_url}/.well-known/webfinger?resource={{uri}}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{template}"/>\n'
        "</XRD>\n"
    )


def nodeinfo_links(settings: Settings) -> dict[str, Any]:
    return {"links": [{"rel": NODEINFO_21, "href": f"{settings.app('federation').public_url}/nodeinfo/2.1"}]}


def nodeinfo_document(users_total: int, active_half_year: int, active_month: int, local_posts: int) -> dict[str, Any]:
    return {
        "version": "2.1",
        "software": {"name": SOFTWARE_NAME, "version": SOFTWARE_VERSION, "homepage": "https://rose-ash.com/"},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": True,  # anyone may sign up at /signup
        "usage": {
            "users": {"total": users_total, "activeHalfyear": active_half_year, "activeMonth": active_month},
            "localPosts": local_posts,
        },
        "metadata": {"nodeName": "Rose Ash"},
    }
