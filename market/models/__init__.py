"""The market's models; they live in shared.models.market."""

from shared.models.market import Category, Market, Producer, Product

__all__ = ["Category", "Market", "Producer", "Product"]
