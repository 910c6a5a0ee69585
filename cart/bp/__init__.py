"""The cart app's blueprints."""
