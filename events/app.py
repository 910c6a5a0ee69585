"""Events: the community calendar and its entries."""

from __future__ import annotations

from quart import Quart

try:
    from . import path_setup  # noqa: F401
except ImportError:  # loaded as a top-level module from inside events/
    import path_setup  # type: ignore[no-redef]  # noqa: F401

from shared.infrastructure.config import Settings
from shared.infrastructure.factory import create_base_app


def create_app(settings: Settings | None = None) -> Quart:
    from events.bp.pages import bp as pages
    from events.bp.fragments import bp as fragments

    app = create_base_app("events", settings)
    app.register_blueprint(pages)
    app.register_blueprint(fragments)
    return app
