"""The market app's blueprints."""
