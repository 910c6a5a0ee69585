"""Federation's models; they live in shared.models.members and shared.models.federation."""

from shared.models.federation import APActivity, APActor, APFollow, APKey, APObject, Notification
from shared.models.members import Member

__all__ = ["APActivity", "APActor", "APFollow", "APKey", "APObject", "Member", "Notification"]
