"""The events app's own settings live in _config/app-config.yaml under apps.events."""
