"""The account's models; they live in shared.models.newsletters and shared.models.events."""

from shared.models.events import Booking, Ticket
from shared.models.newsletters import Newsletter, Subscription

__all__ = ["Booking", "Newsletter", "Subscription", "Ticket"]
