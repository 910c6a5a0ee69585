"""Load and validate the configuration in ``_config/app-config.yaml``.

The file has an ``apps`` section (one entry per app, with URLs per environment)
and an ``environments`` section (settings shared by all apps). ``ROSE_ASH_ENV``
picks the environment. Values may reference environment variables as ``${VAR}``
or ``${VAR:-default}``, and any referenced ``VAR`` may be supplied as ``VAR_FILE``
naming a file that holds the value (Docker Swarm secrets).
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote, urlsplit, urlunsplit

import yaml

APP_NAMES = ("blog", "market", "cart", "events", "federation", "account")
ENVIRONMENTS = ("dev", "test", "production")
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = REPO_ROOT / "_config" / "app-config.yaml"

_REFERENCE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(Exception):
    """A required configuration key is missing or invalid."""

    def __init__(self, key: str, problem: str, hint: str = "") -> None:
        self.key = key
        message = f"configuration key '{key}' {problem}"
        if hint:
            message += f"; {hint}"
        super().__init__(message)


@dataclass(frozen=True)
class AppURLs:
    name: str
    title: str
    public_url: str
    internal_url: str
    dev_port: int

    @property
    def host(self) -> str:
        return urlsplit(self.public_url).netloc

    @property
    def is_https(self) -> bool:
        return self.public_url.startswith("https://")


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    redis_url: str
    secret_key: str
    internal_secret: str
    apps: Mapping[str, AppURLs]
    demo_data: bool = False
    trusted_proxy_hops: int = 0
    allow_private_fetch: bool = False
    startup_timeout: float = 30.0
    activity_log_dir: Path = field(default=Path(".run/activitylog"))
    posts_per_page: int = 10
    # This app's own OAuth client secret at federation; empty in the federation app, which has none.
    oauth_client_secret: str = ""
    fragment_budget_ms: int = 300
    fragment_ttl_seconds: int = 30
    page_cache_seconds: int = 300
    # How far a signed request's Date may lie in the past or future before its signature is rejected.
    signature_max_age_seconds: float = 12 * 3600.0
    signature_max_future_seconds: float = 3600.0
    # The Domain attribute of cookies that every app reads (the signed-out visitor's cart key), or None
    # for host-only cookies, which is enough when every app has the same host, as on localhost ports.
    shared_cookie_domain: str | None = None

    def app(self, name: str) -> AppURLs:
        return self.apps[name]


def _read_variable(name: str, environ: Mapping[str, str]) -> str | None:
    if name in environ:
        return environ[name]
    file_name = environ.get(f"{name}_FILE")
    if file_name is None:
        return None
    try:
        return Path(file_name).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as error:
        raise ConfigError(name, f"could not be read from {name}_FILE={file_name}: {error.strerror}") from error


def _interpolate(key: str, value: Any, environ: Mapping[str, str]) -> Any:
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        resolved = _read_variable(name, environ)
        if resolved is None or (resolved == "" and default is not None):
            if default is None:
                raise ConfigError(key, f"refers to ${{{name}}}, which is not set", f"set {name} or {name}_FILE")
            return default
        return resolved

    return _REFERENCE.sub(substitute, value)


def _require(section: Mapping[str, Any], key: str, path: str, environ: Mapping[str, str]) -> Any:
    value = _interpolate(path, section.get(key), environ)
    if value is None or value == "":
        raise ConfigError(path, "is missing", "add it to _config/app-config.yaml or set its environment variable")
    return value


def _url(value: str, path: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise ConfigError(path, f"is not a valid URL ({value!r})", f"expected a {' or '.join(schemes)} URL")
    return value.rstrip("/")


def _number(value: Any, path: str, kind: type) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(path, f"must be a number, not {value!r}") from None
    if number < 0:
        raise ConfigError(path, f"must not be negative, not {value!r}")
    return number


def _flag(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("1", "true", "yes", "on"):
        return True
    if str(value).lower() in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(path, f"must be true or false, not {value!r}")


def _with_password(url: str, password: str) -> str:
    if not password:
        return url
    parts = urlsplit(url)
    user = parts.username or "postgres"
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _load_apps(raw: Mapping[str, Any], env: str, environ: Mapping[str, str]) -> dict[str, AppURLs]:
    apps_section = raw.get("apps")
    if not isinstance(apps_section, Mapping):
        raise ConfigError("apps", "is missing", "the file needs an apps: section")
    apps = {}
    for name in APP_NAMES:
        entry = apps_section.get(name)
        if not isinstance(entry, Mapping):
            raise ConfigError(f"apps.{name}", "is missing")
        per_env = entry.get(env)
        if not isinstance(per_env, Mapping):
            raise ConfigError(f"apps.{name}.{env}", "is missing")
        prefix = name.upper()
        public = environ.get(f"{prefix}_PUBLIC_URL") or _require(per_env, "public_url", f"apps.{name}.{env}.public_url", environ)
        internal = environ.get(f"{prefix}_INTERNAL_URL") or _require(
            per_env, "internal_url", f"apps.{name}.{env}.internal_url", environ
        )
        apps[name] = AppURLs(
            name=name,
            title=str(entry.get("title") or name.title()),
            public_url=_url(public, f"apps.{name}.{env}.public_url", ("http", "https")),
            internal_url=_url(internal, f"apps.{name}.{env}.internal_url", ("http", "https")),
            dev_port=_number(entry.get("dev_port", 0), f"apps.{name}.dev_port", int),
        )
    return apps


def _shared_cookie_domain(configured: str, apps: Mapping[str, AppURLs], path: str) -> str | None:
    """Check the configured cookie domain against every app's host, or derive one from the hosts.

    The derived domain is the longest parent domain that all hosts share, when it
    has at least two labels. It is None for a single host, for IP addresses, and
    when the hosts share no such parent.
    """
    hosts = sorted({urlsplit(urls.public_url).hostname or "" for urls in apps.values()})
    if configured:
        domain = configured.strip().lower().lstrip(".")
        outside = [host for host in hosts if host != domain and not host.endswith("." + domain)]
        if not domain or outside:
            raise ConfigError(
                path, f"is {configured!r}, which does not cover {', '.join(outside) or 'any host'}",
                "set it to a domain that every app's public_url host ends with, or leave it empty",
            )
        return domain
    if len(hosts) == 1 or any(_is_ip_address(host) for host in hosts):
        return None
    common: list[str] = []
    for labels in zip(*(host.split(".")[::-1] for host in hosts)):
        if len(set(labels)) > 1:
            break
        common.append(labels[0])
    # NOTE: a public suffix such as co.uk passes this test, but browsers reject cookies for it.
    # Set shared_cookie_domain explicitly when the apps' hosts share only a public suffix.
    return ".".join(reversed(common)) if len(common) >= 2 else None


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def load_settings(
    env: str | None = None,
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read the configuration file for one environment and validate every required key."""
    environ = os.environ if environ is None else environ
    env = env or environ.get("ROSE_ASH_ENV") or "dev"
    if env not in ENVIRONMENTS:
        raise ConfigError("ROSE_ASH_ENV", f"is {env!r}", f"use one of {', '.join(ENVIRONMENTS)}")
    path = path or Path(environ.get("ROSE_ASH_CONFIG") or DEFAULT_CONFIG_PATH)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise ConfigError("ROSE_ASH_CONFIG", f"points to {path}, which could not be read: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ConfigError("ROSE_ASH_CONFIG", f"points to {path}, which is not valid YAML: {error}") from error

    section = (raw.get("environments") or {}).get(env)
    if not isinstance(section, Mapping):
        raise ConfigError(f"environments.{env}", "is missing")

    def key(name: str) -> str:
        return f"environments.{env}.{name}"

    def number(name: str, default: float, kind: type) -> Any:
        return _number(_interpolate(key(name), section.get(name, default), environ), key(name), kind)

    database_url = environ.get("DATABASE_URL") or _require(section, "database_url", key("database_url"), environ)
    database_url = _url(database_url, key("database_url"), ("postgresql+asyncpg", "postgresql"))
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+asyncpg://" + database_url[len("postgresql://"):]
    password = _interpolate(key("database_password"), section.get("database_password") or "", environ)
    redis_url = environ.get("REDIS_URL") or _require(section, "redis_url", key("redis_url"), environ)

    apps = _load_apps(raw, env, environ)
    return Settings(
        env=env,
        database_url=_with_password(database_url, password),
        redis_url=_url(redis_url, key("redis_url"), ("redis", "rediss", "unix")),
        secret_key=environ.get("SECRET_KEY") or _require(section, "secret_key", key("secret_key"), environ),
        internal_secret=environ.get("INTERNAL_SECRET")
        or _require(section, "internal_secret", key("internal_secret"), environ),
        apps=apps,
        demo_data=_flag(_interpolate(key("demo_data"), section.get("demo_data", False), environ), key("demo_data")),
        trusted_proxy_hops=number("trusted_proxy_hops", 0, int),
        allow_private_fetch=_flag(
            _interpolate(key("allow_private_fetch"), section.get("allow_private_fetch", False), environ),
            key("allow_private_fetch"),
        ),
        startup_timeout=number("startup_timeout", 30, float),
        activity_log_dir=Path(
            environ.get("ACTIVITY_LOG_DIR") or _require(section, "activity_log_dir", key("activity_log_dir"), environ)
        ),
        fragment_budget_ms=number("fragment_budget_ms", 300, int),
        fragment_ttl_seconds=number("fragment_ttl_seconds", 30, int),
        page_cache_seconds=number("page_cache_seconds", 300, int),
        oauth_client_secret=_interpolate(
            key("oauth_client_secret"), section.get("oauth_client_secret") or "", environ
        ),
        signature_max_age_seconds=number("signature_max_age_seconds", 43200, float),
        signature_max_future_seconds=number("signature_max_future_seconds", 3600, float),
        posts_per_page=max(1, number("posts_per_page", 10, int)),
        shared_cookie_domain=_shared_cookie_domain(
            _interpolate(key("shared_cookie_domain"), section.get("shared_cookie_domain") or "", environ),
            apps,
            key("shared_cookie_domain"),
        ),
    )
