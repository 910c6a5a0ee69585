"""The blog: posts, pages and tags, imported from Ghost."""

from __future__ import annotations

from quart import Quart

try:
    from . import path_setup  # noqa: F401
except ImportError:  # loaded as a top-level module from inside blog/
    import path_setup  # type: ignore[no-redef]  # noqa: F401

from shared.infrastructure.config import Settings
from shared.infrastructure.factory import create_base_app


def create_app(settings: Settings | None = None) -> Quart:
    from blog.bp.activitypub import bp as activitypub
    from blog.bp.pages import bp as pages
    from blog.bp.fragments import bp as fragments

    app = create_base_app("blog", settings, page_cache=True)
    app.register_blueprint(pages)
    app.register_blueprint(activitypub)
    app.register_blueprint(fragments)
    return app
