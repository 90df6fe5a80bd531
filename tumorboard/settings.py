"""Configuration, read once from the environment; nothing else touches os.environ."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
SQL_DIR = PROJECT_ROOT / "sql"
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service reads from its environment."""

    # What web and worker processes connect with: the app role when TUMORBOARD_APP_DATABASE_URL is set.
    database_url: str | None = None
    # DATABASE_URL: the owner of the tables, which `tumorboard migrate` connects as.
    owner_database_url: str | None = None
    # TUMORBOARD_APP_DATABASE_URL: the role (and password) migrate creates and grants for the service.
    app_database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = field(default_factory=lambda: Path.home() / ".local" / "share" / "tumorboard")
    token_ttl_hours: int = 12
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    secure_cookies: bool = False
    db_pool_min: int = 2
    # Connections per process. PostgreSQL does the most with about twice its cores busy at once;
    # more backends only wait on each other (docs/operations.md, "Database connections").
    db_pool_max: int = 4
    log_level: str = "INFO"
    password: str | None = None
    trust_proxy_headers: bool = False
    secret_key: str | None = None
    time_zone: str = "UTC"
    # Links in emails and calendar feeds point at public_url (never the request's Host header);
    # care plan emails are sent only when smtp_host is set.
    public_url: str = "http://127.0.0.1:8000"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_from: str = "tumorboard@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_ca_file: str | None = None
    # Single sign-on with OpenID Connect: on when the issuer and client id are set (see docs/security.md).
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_provider_name: str = "single sign-on"
    oidc_scopes: str = "openid email profile"
    oidc_groups_claim: str = "groups"
    oidc_group_map: str = ""
    oidc_provision_users: bool = True
    # Where web and worker processes of one host share their metrics (unset: each process alone).
    metrics_dir: Path | None = None
    # Tests only: seconds a consolidation waits before committing, so a test can kill its worker.
    test_consolidation_delay: float = 0.0

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings from the process environment."""
        env = os.environ
        public_url = (env.get("TUMORBOARD_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")
        # Cookies are Secure (and HSTS is sent) by default when the service is published over HTTPS.
        secure_default = "1" if public_url.lower().startswith("https://") else "0"
        app_database_url = env.get("TUMORBOARD_APP_DATABASE_URL") or None
        return cls(
            database_url=app_database_url or env.get("DATABASE_URL") or None,
            owner_database_url=env.get("DATABASE_URL") or None,
            app_database_url=app_database_url,
            redis_url=env.get("REDIS_URL") or None,
            data_dir=Path(env.get("TUMORBOARD_DATA_DIR") or cls().data_dir),
            token_ttl_hours=int(env.get("TUMORBOARD_TOKEN_TTL_HOURS", "12")),
            session_idle_minutes=int(env.get("TUMORBOARD_SESSION_IDLE_MINUTES", "30")),
            session_max_hours=int(env.get("TUMORBOARD_SESSION_MAX_HOURS", "12")),
            secure_cookies=(env.get("TUMORBOARD_SECURE_COOKIES") or secure_default) == "1",
            db_pool_min=int(env.get("TUMORBOARD_DB_POOL_MIN", "2")),
            db_pool_max=int(env.get("TUMORBOARD_DB_POOL_MAX", "4")),
            log_level=env.get("TUMORBOARD_LOG_LEVEL", "INFO"),
            password=env.get("TUMORBOARD_PASSWORD") or None,
            trust_proxy_headers=env.get("TUMORBOARD_TRUST_PROXY_HEADERS", "0") == "1",
            secret_key=env.get("TUMORBOARD_SECRET_KEY") or None,
            time_zone=env.get("TUMORBOARD_TIME_ZONE") or "UTC",
            public_url=public_url,
            smtp_host=env.get("TUMORBOARD_SMTP_HOST") or None,
            smtp_port=int(env.get("TUMORBOARD_SMTP_PORT", "587")),
            smtp_from=env.get("TUMORBOARD_SMTP_FROM") or "tumorboard@localhost",
            smtp_username=env.get("TUMORBOARD_SMTP_USERNAME") or None,
            smtp_password=env.get("TUMORBOARD_SMTP_PASSWORD") or None,
            smtp_starttls=env.get("TUMORBOARD_SMTP_STARTTLS", "1") == "1",
            smtp_ca_file=env.get("TUMORBOARD_SMTP_CA_FILE") or None,
            oidc_issuer=env.get("TUMORBOARD_OIDC_ISSUER") or None,
            oidc_client_id=env.get("TUMORBOARD_OIDC_CLIENT_ID") or None,
            oidc_client_secret=env.get("TUMORBOARD_OIDC_CLIENT_SECRET") or None,
            oidc_provider_name=env.get("TUMORBOARD_OIDC_PROVIDER_NAME") or "single sign-on",
            oidc_scopes=env.get("TUMORBOARD_OIDC_SCOPES") or "openid email profile",
            oidc_groups_claim=env.get("TUMORBOARD_OIDC_GROUPS_CLAIM") or "groups",
            oidc_group_map=env.get("TUMORBOARD_OIDC_GROUP_MAP") or "",
            oidc_provision_users=env.get("TUMORBOARD_OIDC_PROVISION_USERS", "1") == "1",
            metrics_dir=Path(env[METRICS_DIR_VARIABLE]) if env.get(METRICS_DIR_VARIABLE) else None,
            test_consolidation_delay=float(env.get("TUMORBOARD_TEST_CONSOLIDATION_DELAY", "0")),
        )


@functools.cache
def current_settings() -> Settings:
    """This process's settings, read from the environment once."""
    return Settings.from_env()


def share_metrics_dir(path: Path) -> None:
    """Make this process and the processes it starts keep their metrics in one folder
    (prometheus-client's multiprocess mode reads PROMETHEUS_MULTIPROC_DIR itself)."""
    os.environ[METRICS_DIR_VARIABLE] = str(path)
    current_settings.cache_clear()
