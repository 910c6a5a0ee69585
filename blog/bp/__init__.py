"""The blog's blueprints."""
