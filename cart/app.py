"""The cart: what a visitor is about to buy, read through the market service."""

from __future__ import annotations

from quart import Quart

try:
    from . import path_setup  # noqa: F401
except ImportError:  # loaded as a top-level module from inside cart/
    import path_setup  # type: ignore[no-redef]  # noqa: F401

from shared.infrastructure.config import Settings
from shared.infrastructure.factory import create_base_app


def create_app(settings: Settings | None = None) -> Quart:
    from cart.bp.pages import bp as pages
    from cart.bp.fragments import bp as fragments

    app = create_base_app("cart", settings)
    app.register_blueprint(pages)
    app.register_blueprint(fragments)
    return app
