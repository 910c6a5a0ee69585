"""The market: markets, producers and their products."""

from __future__ import annotations

from quart import Quart

try:
    from . import path_setup  # noqa: F401
except ImportError:  # loaded as a top-level module from inside market/
    import path_setup  # type: ignore[no-redef]  # noqa: F401

from shared.infrastructure.config import Settings
from shared.infrastructure.factory import create_base_app


def create_app(settings: Settings | None = None) -> Quart:
    from market.bp.pages import bp as pages
    from market.bp.fragments import bp as fragments

    app = create_base_app("market", settings)
    app.register_blueprint(pages)
    app.register_blueprint(fragments)
    return app
