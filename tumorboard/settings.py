"""Configuration, read once from the environment; nothing else touches os.environ."""

from __future__ import annotations

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
    secure_cookies: bool = False
    db_pool_min: int = 2
    db_pool_max: int = 10
    log_level: str = "INFO"
    password: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings from the process environment."""
        env = os.environ
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            data_dir=Path(env.get("TUMORBOARD_DATA_DIR") or cls().data_dir),
            token_ttl_hours=int(env.get("TUMORBOARD_TOKEN_TTL_HOURS", "12")),
            session_idle_minutes=int(env.get("TUMORBOARD_SESSION_IDLE_MINUTES", "30")),
            secure_cookies=env.get("TUMORBOARD_SECURE_COOKIES", "0") == "1",
            db_pool_min=int(env.get("TUMORBOARD_DB_POOL_MIN", "2")),
            db_pool_max=int(env.get("TUMORBOARD_DB_POOL_MAX", "10")),
            log_level=env.get("TUMORBOARD_LOG_LEVEL", "INFO"),
            password=env.get("TUMORBOARD_PASSWORD") or None,
        )


def configure_logging(level: str) -> None:
    """One log format for every process; chatty libraries only warn."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.WARNING)
