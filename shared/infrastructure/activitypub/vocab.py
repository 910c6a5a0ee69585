"""ActivityStreams vocabulary, lenient property access and media-type negotiation.

Other servers write any property as one value or a list, and an object as
itself or as its id. The helpers here read either shape.
"""

from __future__ import annotations

from typing import Any

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})
ACTIVITY_JSON = "application/activity+json"
LD_JSON_PROFILE = f'application/ld+json; profile="{AS_CONTEXT}"'
JRD_JSON = "application/jrd+json"
OBJECT_TYPES = frozenset({"Note", "Article", "Page", "Question", "Event", "Video", "Image", "Audio"})
ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def id_of(value: Any) -> str | None:
    """Return the id of an object given inline or by reference (the first one, for a list)."""
    for item in as_list(value):
        if isinstance(item, str):
            return item
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            return item["id"]
    return None


def ids_of(value: Any) -> list[str]:
    found = []
    for item in as_list(value):
        item_id = item if isinstance(item, str) else item.get("id") if isinstance(item, dict) else None
        if isinstance(item_id, str):
            found.append(item_id)
    return found


def types_of(value: Any) -> set[str]:
    if not isinstance(value, dict):
        return set()
    return {kind for kind in as_list(value.get("type")) if isinstance(kind, str)}


def first_object(value: Any) -> dict[str, Any] | None:
    """Return the first inline object of a property, or None when it is only referenced."""
    for item in as_list(value):
        if isinstance(item, dict):
            return item
    return None


def _split_media_ranges(header: str) -> list[str]:
    ranges, current, quoted = [], [], False
    for character in header:
        if character == '"':
            quoted = not quoted
        if character == "," and not quoted:
            ranges.append("".join(current))
            current = []
        else:
            current.append(character)
    ranges.append("".join(current))
    return [item.strip() for item in ranges if item.strip()]


def parse_media_range(text: str) -> tuple[str, dict[str, str]]:
    """Split ``type/subtype; name=value`` into the lowercase type and its parameters, unquoting values."""
    pieces = text.split(";")
    media_type = pieces[0].strip().lower()
    parameters = {}
    for piece in pieces[1:]:
        name, _, value = piece.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        parameters[name.strip().lower()] = value.strip()
    return media_type, parameters


def is_activity_media_type(media_type: str, parameters: dict[str, str]) -> bool:
    if media_type == ACTIVITY_JSON:
        return True
    return media_type == "application/ld+json" and AS_CONTEXT in parameters.get("profile", "").split()


def _quality(parameters: dict[str, str]) -> float:
    try:
        return float(parameters.get("q", "1"))
    except ValueError:
        return 0.0


def prefers_activity_json(accept: str | None) -> bool:
    """Whether an Accept header asks for ActivityStreams JSON rather than an HTML page.

    ActivityStreams wins when one of its media types is acceptable and no
    HTML type (text/html, application/xhtml+xml) has a higher quality.
    """
    if not accept:
        return False
    activity_q = html_q = 0.0
    for media_range in _split_media_ranges(accept):
        media_type, parameters = parse_media_range(media_range)
        quality = _quality(parameters)
        if is_activity_media_type(media_type, parameters):
            activity_q = max(activity_q, quality)
        elif media_type in ("text/html", "application/xhtml+xml"):
            html_q = max(html_q, quality)
    return activity_q > 0 and activity_q >= html_q


def is_activity_content_type(header: str | None) -> bool:
    if not header:
        return False
    media_type, parameters = parse_media_range(header)
    return is_activity_media_type(media_type, parameters)
