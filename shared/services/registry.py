"""The one registry through which apps find each other's services.

``services.market.get_product(...)`` works in every app process, because all
six share the database; what an app must not do is import another app's
blueprints or call it over HTTP for domain logic.
"""

from __future__ import annotations

from typing import Any

from shared.contracts.protocols import EventsService, MarketService, MemberService, OAuthGrantService


class ServiceNotRegistered(LookupError):
    pass


class ServiceRegistry:
    # Declared for type checkers; the values come from __getattr__.
    market: MarketService
    members: MemberService
    events: EventsService
    oauth_grants: OAuthGrantService

    _protocols: dict[str, type] = {
        "market": MarketService, "members": MemberService, "events": EventsService, "oauth_grants": OAuthGrantService,
    }

    def __init__(self) -> None:
        self._services: dict[str, Any] = {}

    def register(self, name: str, implementation: Any) -> None:
        protocol = self._protocols.get(name)
        if protocol is None:
            raise ValueError(f"unknown service {name!r}; known services: {', '.join(sorted(self._protocols))}")
        if not isinstance(implementation, protocol):
            raise TypeError(f"{type(implementation).__name__} does not implement {protocol.__name__}")
        self._services[name] = implementation

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._services[name]
        except KeyError:
            raise ServiceNotRegistered(
                f"no {name!r} service is registered; call register_default_services() at start-up"
            ) from None


services = ServiceRegistry()


def register_default_services() -> None:
    from .events import SqlEventsService
    from .market import SqlMarketService
    from .members import SqlMemberService
    from .oauth_grants import SqlOAuthGrantService

    services.register("market", SqlMarketService())
    services.register("members", SqlMemberService())
    services.register("events", SqlEventsService())
    services.register("oauth_grants", SqlOAuthGrantService())
