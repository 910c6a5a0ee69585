"""The federation app's blueprints."""
