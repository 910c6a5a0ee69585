"""The events' models; they live in shared.models.events."""

from shared.models.events import Booking, Calendar, EventEntry, Ticket

__all__ = ["Booking", "Calendar", "EventEntry", "Ticket"]
