"""The service registry: apps reach each other's domains through Protocols and DTOs."""

from __future__ import annotations

import dataclasses

import pytest

from shared.contracts.dtos import ProductDTO
from shared.contracts.protocols import MarketService
from shared.infrastructure.db import make_engine, make_sessionmaker
from shared.services.registry import ServiceNotRegistered, ServiceRegistry, register_default_services, services


async def test_market_service_returns_frozen_product_dtos(settings):
    register_default_services()
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            products = await services.market.get_products(session, list(range(1, 50)))
            missing = await services.market.get_product(session, 10**9)
    finally:
        await engine.dispose()
    assert len(products) == 6
    assert missing is None
    scarf = next(product for product in products.values() if product.slug == "wool-scarf")
    assert isinstance(scarf, ProductDTO)
    assert (scarf.price_minor, scarf.currency, scarf.market_name) == (3800, "GBP", "Craft Market")
    with pytest.raises(dataclasses.FrozenInstanceError):
        scarf.price_minor = 1  # type: ignore[misc]
    # A DTO contains plain values only.
    assert all(isinstance(getattr(scarf, field.name), (int, str, bool, type(None))) for field in dataclasses.fields(scarf))


def test_register_rejects_wrong_protocol():
    registry = ServiceRegistry()
    with pytest.raises(TypeError, match="does not implement MarketService"):
        registry.register("market", object())
    with pytest.raises(ValueError, match="unknown service"):
        registry.register("weather", object())


def test_unregistered_service_explains_fix():
    with pytest.raises(ServiceNotRegistered, match="register_default_services"):
        ServiceRegistry().market  # noqa: B018


def test_default_market_service_implements_the_protocol():
    register_default_services()
    assert isinstance(services.market, MarketService)


def test_cart_never_imports_the_market_app():
    from pathlib import Path

    cart = Path(__file__).resolve().parents[2] / "cart"
    for source in cart.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert "from market" not in text, source
        assert "import market" not in text, source
