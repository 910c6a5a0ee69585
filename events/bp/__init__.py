"""The events app's blueprints."""
