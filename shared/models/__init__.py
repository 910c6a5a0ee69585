"""Every ORM model of Rose Ash, one module per domain.

Importing this package registers all tables on ``Base.metadata`` so that
relationships across domains resolve.
"""

from .base import Base
from .blog import Author, NavigationItem, Post, Tag, post_authors, post_tags
from .cart import Cart, CartItem, Order, OrderLine, Payment
from .events import Booking, Calendar, EventEntry, Ticket
from .federation import (
    APActivity, APActor, APDelivery, APDomainBlock, APFollow, APKey, APObject, APRemoteActor, APRemoteKey,
    Notification,
)
from .market import Category, Market, Producer, Product
from .members import Member
from .newsletters import Newsletter, Subscription
from .oauth import OAuthAuthorizationCode, OAuthClient, OAuthConsent, OAuthToken, OIDCSigningKey

__all__ = [
    "APActivity", "APActor", "APDelivery", "APDomainBlock", "APFollow", "APKey", "APObject", "APRemoteActor", "APRemoteKey", "Author", "Base", "Booking", "Calendar", "Cart",
    "CartItem", "Category", "EventEntry", "Market", "Member", "NavigationItem", "Newsletter", "Notification",
    "OAuthAuthorizationCode", "OAuthClient", "OAuthConsent", "OAuthToken", "OIDCSigningKey",
    "Order", "OrderLine", "Payment", "Post", "Producer", "Product", "Subscription", "Tag", "Ticket",
    "post_authors", "post_tags",
]
