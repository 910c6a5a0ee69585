"""Signing members in on the five client apps through federation's OpenID Connect server.

``install_oauth_client`` registers on each client app:

- ``GET /auth/login?next=/path``: start the authorization code flow with PKCE
  (S256), a ``state`` and a ``nonce``. ``next`` must be a relative path on
  this app, and anything else is replaced by ``/``.
- ``GET /auth/callback``: exchange the code at federation's token endpoint
  (server to server, over the internal URL), verify the id_token against
  federation's JWKS, give the session a new id and store the member in it.
- ``POST /auth/logout``: end this app's session and send the browser to
  federation's end_session_endpoint (RP-initiated logout), which ends the
  federation session and every app session started from it.
- ``POST /auth/backchannel-logout``: receive federation's signed logout token
  and record that the federation session ``sid`` has ended, so every session
  of this app started from it is cleared on its next request.

An anonymous browser navigation is bounced through federation with
``prompt=none``; a member signed in at federation comes back signed in, and
anyone else comes back unchanged. The session records the value of the
sign-in state cookie (``shared.infrastructure.sso_cookie``) at the bounce, and
the browser is bounced again only when that value changes, which federation
does at every sign-in and sign-out. Browsers send ``Sec-Fetch-Mode: navigate`` on such navigations;
clients without it (feeds, crawlers, scripts) are never bounced. A callback
whose ``state`` is not in the session shows an error page instead of
redirecting, so a browser that drops our cookie cannot loop either.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from typing import Any
from urllib.parse import quote_plus, urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from quart import Blueprint, Quart, Response, current_app, jsonify, redirect, render_template, request, session

from shared.services.oauth_clients import BACKCHANNEL_LOGOUT_PATH, CALLBACK_PATH, register_first_party_client
from shared.services.registry import services

from .config import Settings
from .csrf import csrf_exempt
from .db import get_session
from .sessions import SESSION_LIFETIME_SECONDS, check_session_store
from .sso_cookie import current_sso_state

log = logging.getLogger(__name__)

MEMBER_KEY = "member"
MEMBER_ID_KEY = "member_id"
PENDING_KEY = "oauth_pending"
SILENT_CHECKED_KEY = "sso_checked"
# At most this many sign-ins may be under way at once in one session (several tabs).
MAX_PENDING = 5
SCOPE = "openid profile"
CLOCK_LEEWAY_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10.0
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# prompt=none answers that mean "not signed in there": the silent bounce just ends.
SILENT_FAILURES = {"login_required", "consent_required", "interaction_required", "account_selection_required"}
NEVER_BOUNCED = ("/auth/", "/static/", "/internal/", "/healthz", "/.well-known/")


class IdTokenError(Exception):
    """An id_token or logout token failed verification."""


def safe_next(target: str | None) -> str:
    """Return ``target`` when it is a relative path on this app, otherwise ``/``."""
    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(character) < 0x20 for character in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def current_member() -> dict[str, Any] | None:
    """Return the signed-in member of this app's session (``sub``, ``username``, ``name``, ``sid``), or None."""
    member = session.get(MEMBER_KEY)
    return member if isinstance(member, dict) and isinstance(session.get(MEMBER_ID_KEY), int) else None


def sign_in_redirect(next_path: str | None = None) -> Response:
    target = safe_next(next_path if next_path is not None else _current_path())
    return redirect("/auth/login?" + urlencode({"next": target}))


def _current_path() -> str:
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class FederationClient:
    """This app's side of the conversation with federation: URLs, credentials, JWKS."""

    def __init__(self, app: Quart, settings: Settings, name: str) -> None:
        self.app = app
        self.settings = settings
        self.client_id = name
        self.issuer = settings.app("federation").public_url
        self.internal_url = settings.app("federation").internal_url
        self.redirect_uri = settings.app(name).public_url + CALLBACK_PATH
        self.home_url = settings.app(name).public_url + "/"
        self._registered = False
        self._keys: KeySet | None = None

    def http(self) -> httpx.AsyncClient:
        # Tests may put an httpx transport in app.extensions to reach federation without a socket.
        return httpx.AsyncClient(
            base_url=self.internal_url, timeout=HTTP_TIMEOUT_SECONDS,
            transport=self.app.extensions.get("oauth_http_transport"),
        )

    async def ensure_registered(self) -> None:
        """Write this app's client row once per process, before its first sign-in."""
        if self._registered:
            return
        async with self.app.extensions["sessionmaker"]() as db, db.begin():
            await register_first_party_client(db, self.settings, self.client_id)
        self._registered = True

    async def _fetch_keys(self) -> KeySet:
        async with self.http() as http:
            response = await http.get("/oauth/jwks")
        response.raise_for_status()
        self._keys = KeySet.import_key_set(response.json())
        return self._keys

    async def decode(self, token: str) -> jwt.Token:
        """Check a JWT's RS256 signature against federation's JWKS, fetching it again once for a new key."""
        try:
            keys = self._keys or await self._fetch_keys()
            try:
                return jwt.decode(token, keys, algorithms=["RS256"])
            except (JoseError, ValueError):
                return jwt.decode(token, await self._fetch_keys(), algorithms=["RS256"])
        except (JoseError, ValueError) as error:
            raise IdTokenError(f"the token's signature or format is invalid ({error})") from error
        except httpx.HTTPError as error:
            raise IdTokenError(f"federation's JWKS could not be fetched ({error})") from error

    def _validate(self, claims: dict[str, Any], **expected: Any) -> None:
        options = {"iss": {"essential": True, "value": self.issuer}, "aud": {"essential": True, "value": self.client_id}}
        options.update(expected)
        try:
            jwt.JWTClaimsRegistry(leeway=CLOCK_LEEWAY_SECONDS, **options).validate(claims)
        except JoseError as error:
            raise IdTokenError(f"the token's claims are invalid ({error})") from error

    async def verify_id_token(self, token: str, nonce: str) -> dict[str, Any]:
        claims = dict((await self.decode(token)).claims)
        self._validate(
            claims, sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        if claims.get("azp", self.client_id) != self.client_id:
            raise IdTokenError("the id_token was issued to another client (azp)")
        return claims

    async def verify_logout_token(self, token: str) -> dict[str, Any]:
        decoded = await self.decode(token)
        if decoded.header.get("typ") != "logout+jwt":
            raise IdTokenError("the logout token's typ header is not logout+jwt")
        claims = dict(decoded.claims)
        self._validate(claims, iat={"essential": True})
        events = claims.get("events")
        if not isinstance(events, dict) or BACKCHANNEL_LOGOUT_EVENT not in events:
            raise IdTokenError("the logout token has no back-channel logout event")
        if "nonce" in claims:
            raise IdTokenError("a logout token must not carry a nonce")
        if not claims.get("sid") and not claims.get("sub"):
            raise IdTokenError("the logout token names neither a sid nor a sub")
        return claims

    async def exchange_code(self, code: str, verifier: str) -> dict[str, Any]:
        auth = httpx.BasicAuth(quote_plus(self.client_id), quote_plus(self.settings.oauth_client_secret))
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri, "code_verifier": verifier}
        async with self.http() as http:
            response = await http.post("/oauth/token", data=data, auth=auth)
        if response.status_code != 200:
            raise IdTokenError(f"the token endpoint returned status {response.status_code}: {response.text[:200]}")
        return response.json()


def _federation() -> FederationClient:
    return current_app.extensions["oauth_client"]


def _ended_keys(app_name: str, member: dict[str, Any]) -> list[str]:
    keys = [f"oidc:ended-sub:{app_name}:{member.get('sub', '')}"]
    if member.get("sid"):
        keys.append(f"oidc:ended-sid:{app_name}:{member['sid']}")
    return keys


async def _authorization_redirect(next_path: str, silent: bool) -> Response:
    federation = _federation()
    await federation.ensure_registered()
    state = secrets.token_urlsafe(24)
    nonce = secrets.token_urlsafe(24)
    verifier, challenge = _pkce_pair()
    pending = dict(session.get(PENDING_KEY) or {})
    while len(pending) >= MAX_PENDING:
        pending.pop(next(iter(pending)))
    pending[state] = {"verifier": verifier, "nonce": nonce, "next": next_path, "silent": silent}
    session[PENDING_KEY] = pending
    params = {
        "response_type": "code", "client_id": federation.client_id, "redirect_uri": federation.redirect_uri,
        "scope": SCOPE, "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256",
    }
    if silent:
        params["prompt"] = "none"
    return redirect(f"{federation.issuer}/oauth/authorize?{urlencode(params)}")


async def _sign_in_failed(message: str, status: int = 400):
    return await render_template("error.html", status=status, title="Sign-in failed", message=message), status


def _create_blueprint() -> Blueprint:
    bp = Blueprint("oauth_client", __name__)

    @bp.get("/auth/login")
    async def login():
        return await _authorization_redirect(safe_next(request.args.get("next")), silent=False)

    @bp.get(CALLBACK_PATH)
    async def callback():
        federation = _federation()
        pending = dict(session.get(PENDING_KEY) or {})
        entry = pending.pop(request.args.get("state") or "", None)
        session[PENDING_KEY] = pending
        if entry is None:
            # A sign-in started while Redis was down left no session behind, so report Redis instead of blaming the browser.
            await check_session_store()
            return await _sign_in_failed(
                "This sign-in has expired or was already completed, or your browser did not keep our cookie. "
                "Allow cookies for this site and sign in again."
            )
        if request.args.get("iss") not in (None, federation.issuer):
            return await _sign_in_failed("The sign-in answer came from an unexpected server, so it was ignored.")
        error = request.args.get("error")
        if error:
            if entry["silent"] and error in SILENT_FAILURES:
                return redirect(entry["next"])
            if error == "access_denied":
                return await _sign_in_failed("Sign-in was cancelled at federation, so you are not signed in.", 403)
            log.warning("sign-in at %s failed with %s: %s", federation.client_id, error, request.args.get("error_description"))
            return await _sign_in_failed(f"Federation refused the sign-in ({error}). Try again from the start.")
        code = request.args.get("code")
        if not code:
            return await _sign_in_failed("The sign-in answer has no code. Try again from the start.")
        try:
            tokens = await federation.exchange_code(code, entry["verifier"])
            claims = await federation.verify_id_token(tokens.get("id_token") or "", entry["nonce"])
        except (IdTokenError, httpx.HTTPError, ValueError) as failure:
            log.warning("sign-in at %s failed: %s", federation.client_id, failure)
            return await _sign_in_failed("Federation's answer could not be verified. Try signing in again.", 502)

        username = claims.get("preferred_username") or claims["sub"].rsplit("/", 1)[-1]
        member = await services.members.get_member_by_username(get_session(), username)
        if member is None:
            log.warning("sign-in at %s for %s, who is not a member here", federation.client_id, claims["sub"])
            return await _sign_in_failed("Your account was not found here. Sign in again, or ask for help.", 403)

        session.regenerate()
        session.pop(PENDING_KEY, None)
        session[SILENT_CHECKED_KEY] = current_sso_state()
        # member_id is what the rest of the apps (fragments, pages) read to know who is signed in.
        session[MEMBER_ID_KEY] = member.id
        session[MEMBER_KEY] = {
            "sub": claims["sub"],
            "username": member.username,
            "name": member.display_name,
            "sid": claims.get("sid"),
            "signed_in_at": time.time(),
            "id_token": tokens["id_token"],
        }
        return redirect(entry["next"])

    @bp.get("/auth/logout")
    async def logout_form():
        return await render_template("auth_logout.html", member=current_member())

    @bp.post("/auth/logout")
    async def logout():
        federation = _federation()
        member = current_member()
        session.clear()
        session.regenerate()
        # Federation's session ends with this sign-out and deletes the state
        # cookie, so a silent check would only find it gone.
        session[SILENT_CHECKED_KEY] = ""
        params = {"client_id": federation.client_id, "post_logout_redirect_uri": federation.home_url}
        if member and member.get("id_token"):
            params["id_token_hint"] = member["id_token"]
        return redirect(f"{federation.issuer}/oauth/logout?{urlencode(params)}")

    @bp.post(BACKCHANNEL_LOGOUT_PATH)
    @csrf_exempt
    async def backchannel_logout():
        federation = _federation()
        token = (await request.form).get("logout_token")
        if not token:
            return _no_store(jsonify({"error": "invalid_request", "error_description": "logout_token is missing"}), 400)
        try:
            claims = await federation.verify_logout_token(token)
        except IdTokenError as error:
            log.warning("rejected a back-channel logout at %s: %s", federation.client_id, error)
            return _no_store(jsonify({"error": "invalid_request", "error_description": str(error)}), 400)
        redis = current_app.extensions["redis"]
        if claims.get("jti") and not await redis.set(
            f"oidc:logout-jti:{federation.client_id}:{claims['jti']}", 1, nx=True, ex=SESSION_LIFETIME_SECONDS
        ):
            return _no_store(jsonify({"error": "invalid_request", "error_description": "this logout token was already used"}), 400)
        member = {"sub": claims.get("sub", ""), "sid": claims.get("sid")}
        if claims.get("sid"):
            await redis.set(_ended_keys(federation.client_id, member)[1], 1, ex=SESSION_LIFETIME_SECONDS)
        else:
            await redis.set(_ended_keys(federation.client_id, member)[0], claims["iat"], ex=SESSION_LIFETIME_SECONDS)
        log.info("back-channel logout at %s for sid=%s", federation.client_id, claims.get("sid"))
        return _no_store(jsonify({}), 200)

    return bp


def _no_store(response: Response, status: int) -> Response:
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


async def _end_logged_out_session() -> None:
    """Clear this session when a back-channel logout token has reported that its federation session ended."""
    member = current_member()
    if member is None:
        return
    app_name = _federation().client_id
    by_sub, *by_sid = await current_app.extensions["redis"].mget(_ended_keys(app_name, member))
    ended_by_sid = bool(by_sid and by_sid[0])
    ended_by_sub = by_sub is not None and float(by_sub) >= float(member.get("signed_in_at", 0))
    if ended_by_sid or ended_by_sub:
        session.clear()
        session.regenerate()
        session[SILENT_CHECKED_KEY] = current_sso_state()


async def _silent_sign_in() -> Response | None:
    if request.method != "GET" or current_member() is not None:
        return None
    state = current_sso_state()
    if session.get(SILENT_CHECKED_KEY) == state:
        return None
    if request.headers.get("Sec-Fetch-Mode") != "navigate" or request.headers.get("Sec-Fetch-Dest") != "document":
        return None
    if request.path.startswith(NEVER_BOUNCED):
        return None
    session[SILENT_CHECKED_KEY] = state
    return await _authorization_redirect(safe_next(_current_path()), silent=True)


def install_oauth_client(app: Quart, settings: Settings, name: str) -> None:
    """Make ``app`` a client of federation: the /auth/ routes, the silent sign-in and logout checks."""
    app.extensions["oauth_client"] = FederationClient(app, settings, name)
    app.register_blueprint(_create_blueprint())

    @app.before_request
    async def check_sign_in() -> Response | None:
        if request.path.startswith(("/static/", "/healthz")):
            return None
        await _end_logged_out_session()
        return await _silent_sign_in()
