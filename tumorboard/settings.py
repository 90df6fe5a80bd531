"""Configuration, read once from the environment; nothing else touches os.environ."""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
SQL_DIR = PROJECT_ROOT / "sql"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service reads from its environment."""

    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = field(default_factory=lambda: Path.home() / ".local" / "share" / "tumorboard")
    token_ttl_hours: int = 12
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    secure_cookies: bool = False
    db_pool_min: int = 2
    db_pool_max: int = 10
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
    # Tests only: seconds a consolidation waits before committing, so a test can kill its worker.
    test_consolidation_delay: float = 0.0

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings from the process environment."""
        env = os.environ
        public_url = (env.get("TUMORBOARD_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")
        # Cookies are Secure (and HSTS is sent) by default when the service is published over HTTPS.
        secure_default = "1" if public_url.lower().startswith("https://") else "0"
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            data_dir=Path(env.get("TUMORBOARD_DATA_DIR") or cls().data_dir),
            token_ttl_hours=int(env.get("TUMORBOARD_TOKEN_TTL_HOURS", "12")),
            session_idle_minutes=int(env.get("TUMORBOARD_SESSION_IDLE_MINUTES", "30")),
            session_max_hours=int(env.get("TUMORBOARD_SESSION_MAX_HOURS", "12")),
            secure_cookies=(env.get("TUMORBOARD_SECURE_COOKIES") or secure_default) == "1",
            db_pool_min=int(env.get("TUMORBOARD_DB_POOL_MIN", "2")),
            db_pool_max=int(env.get("TUMORBOARD_DB_POOL_MAX", "10")),
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
            test_consolidation_delay=float(env.get("TUMORBOARD_TEST_CONSOLIDATION_DELAY", "0")),
        )


@functools.cache
def current_settings() -> Settings:
    """This process's settings, read from the environment once."""
    return Settings.from_env()


def configure_logging(level: str) -> None:
    """One log format for every process; chatty libraries only warn."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.WARNING)
