"""The cart's models; they live in shared.models.cart."""

from shared.models.cart import Cart, CartItem, Order, OrderLine, Payment

__all__ = ["Cart", "CartItem", "Order", "OrderLine", "Payment"]
