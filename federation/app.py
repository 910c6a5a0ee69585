"""Federation: members, sign-in, the OAuth 2.0 / OpenID Connect server, and the ActivityPub hub."""

from __future__ import annotations

from quart import Quart

try:
    from . import path_setup  # noqa: F401
except ImportError:  # loaded as a top-level module from inside federation/
    import path_setup  # type: ignore[no-redef]  # noqa: F401

from shared.infrastructure.config import Settings
from shared.infrastructure.factory import create_base_app


def create_app(settings: Settings | None = None) -> Quart:
    from federation.bp.auth import bp as auth
    from federation.bp.oauth import bp as oauth
    from federation.bp.activitypub import bp as activitypub, install_profile_negotiation
    from federation.bp.pages import bp as pages
    from federation.bp.fragments import bp as fragments
    from federation.bp.social import bp as social

    app = create_base_app("federation", settings)
    app.register_blueprint(pages)
    app.register_blueprint(activitypub)
    install_profile_negotiation(app)
    app.register_blueprint(auth)
    app.register_blueprint(oauth)
    app.register_blueprint(fragments)
    app.register_blueprint(social)
    return app
