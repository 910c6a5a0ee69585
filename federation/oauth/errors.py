"""OAuth 2.0 error responses (RFC 6749, sections 4.1.2.1 and 5.2)."""

from __future__ import annotations


class OAuthError(Exception):
    """An error the client should see as ``{"error": ..., "error_description": ...}``.

    ``status`` is 400 for most errors and 401 for ``invalid_client``; at the
    authorization endpoint the error goes back to the client's redirect_uri
    instead, where ``status`` is not used.
    """

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def as_dict(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)
