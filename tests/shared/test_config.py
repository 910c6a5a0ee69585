"""Configuration: one file, per environment, overridable by environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.infrastructure.config import APP_NAMES, ConfigError, load_settings

PRODUCTION = {
    "DATABASE_URL": "postgresql://rose@db:5432/rose_ash",
    "REDIS_URL": "redis://redis:6379/0",
    "SECRET_KEY": "s3cret",
    "INTERNAL_SECRET": "internal",
}


def test_every_app_has_both_urls():
    for env in ("dev", "test"):
        settings = load_settings(env, environ={})
        assert set(settings.apps) == set(APP_NAMES)
        for urls in settings.apps.values():
            assert urls.public_url.startswith("http")
            assert urls.internal_url.startswith("http")
    production = load_settings("production", environ=PRODUCTION)
    assert production.app("blog").public_url == "https://blog.rose-ash.com"
    assert production.app("blog").internal_url == "http://blog:8000"


def test_environment_variables_override_the_file():
    settings = load_settings(
        "dev", environ={"DATABASE_URL": "postgresql://x@h:1/db", "CART_PUBLIC_URL": "https://shop.example"}
    )
    assert settings.database_url == "postgresql+asyncpg://x@h:1/db"
    assert settings.app("cart").public_url == "https://shop.example"


def test_production_without_its_secret_names_the_missing_key():
    environ = {key: value for key, value in PRODUCTION.items() if key != "SECRET_KEY"}
    with pytest.raises(ConfigError) as caught:
        load_settings("production", environ=environ)
    assert "environments.production.secret_key" in str(caught.value)
    assert "SECRET_KEY" in str(caught.value)


def test_secret_read_from_file(tmp_path: Path):
    secret = tmp_path / "secret_key"
    secret.write_text("from-a-file\n")
    environ = {key: value for key, value in PRODUCTION.items() if key != "SECRET_KEY"}
    settings = load_settings("production", environ={**environ, "SECRET_KEY_FILE": str(secret)})
    assert settings.secret_key == "from-a-file"


def test_database_password_file_goes_into_the_url(tmp_path: Path):
    password = tmp_path / "db_password"
    password.write_text("p@ss word")
    settings = load_settings("production", environ={**PRODUCTION, "DATABASE_PASSWORD_FILE": str(password)})
    assert settings.database_url == "postgresql+asyncpg://rose:p%40ss%20word@db:5432/rose_ash"


def test_invalid_value_names_the_key(tmp_path: Path):
    with pytest.raises(ConfigError) as caught:
        load_settings("production", environ={**PRODUCTION, "TRUSTED_PROXY_HOPS": "several"})
    assert "trusted_proxy_hops" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_settings("dev", environ={"DATABASE_URL": "mysql://db/x"})
    assert "database_url" in str(caught.value)


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"ROSE_ASH_ENV": "staging"})
    assert "ROSE_ASH_ENV" in str(caught.value)
    assert "production" in str(caught.value)


def test_missing_app_section_names_the_app(tmp_path: Path):
    broken = tmp_path / "app-config.yaml"
    original = (Path(__file__).resolve().parents[2] / "_config" / "app-config.yaml").read_text()
    broken.write_text(original.replace("  account:\n", "  accounts:\n", 1))
    with pytest.raises(ConfigError) as caught:
        load_settings("dev", path=broken, environ={})
    assert "apps.account" in str(caught.value)


def test_production_demo_data_off():
    settings = load_settings("production", environ=PRODUCTION)
    assert settings.demo_data is False
    assert settings.allow_private_fetch is False


def test_shared_cookie_domain_derived_from_public_urls():
    assert load_settings("production", environ=PRODUCTION).shared_cookie_domain == "rose-ash.com"
    assert load_settings("dev", environ={}).shared_cookie_domain is None
    assert load_settings("test", environ={}).shared_cookie_domain is None
    moved = load_settings("production", environ={**PRODUCTION, "CART_PUBLIC_URL": "https://shop.example.org"})
    assert moved.shared_cookie_domain is None


def test_shared_cookie_domain_none_for_ip_hosts():
    environ = {f"{name.upper()}_PUBLIC_URL": f"http://127.0.0.{index + 1}:8000" for index, name in enumerate(APP_NAMES)}
    assert load_settings("dev", environ=environ).shared_cookie_domain is None


def test_shared_cookie_domain_set_explicitly():
    settings = load_settings("production", environ={**PRODUCTION, "SHARED_COOKIE_DOMAIN": ".Rose-Ash.com"})
    assert settings.shared_cookie_domain == "rose-ash.com"


def test_shared_cookie_domain_must_cover_every_app():
    environ = {**PRODUCTION, "SHARED_COOKIE_DOMAIN": "blog.rose-ash.com"}
    with pytest.raises(ConfigError, match="environments.production.shared_cookie_domain") as raised:
        load_settings("production", environ=environ)
    assert "market.rose-ash.com" in str(raised.value)
    assert "blog.rose-ash.com," not in str(raised.value)
