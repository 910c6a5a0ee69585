"""Federation's fragments for other apps; it offers none yet, so every type is a 404."""

from shared.infrastructure.fragments import fragments_blueprint

bp = fragments_blueprint({})
