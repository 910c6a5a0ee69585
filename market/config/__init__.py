"""The market app's own settings live in _config/app-config.yaml under apps.market."""
