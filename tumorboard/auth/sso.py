"""Signing in through the identity provider: who the person is here, and what their groups grant.

A person is found by the provider's subject once linked, else by email (then linked), else provisioned
when the provider's groups grant a role. With a group map configured, the provider is the source of
truth for roles and discipline: they are brought in line at every sign-in, and someone whose groups
grant nothing is refused. Every sign-in, allowed or refused, is audited like a local one.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from tumorboard import audit
from tumorboard.auth.oidc import GroupGrant, Identity, OidcConfig
from tumorboard.db import Record, queries
from tumorboard.enums import Discipline, Role
from tumorboard.errors import AuditNote, NotAuthenticated

_NAME_MAX = 200


def grants_for(
    groups: tuple[str, ...], group_map: dict[str, GroupGrant]
) -> tuple[list[Role], Discipline | None]:
    """The roles (union) and discipline (the first group's in the map's order) a person's groups grant."""
    roles: set[Role] = set()
    discipline: Discipline | None = None
    for group, grant in group_map.items():
        if group in groups:
            roles.update(grant.roles)
            discipline = discipline or grant.discipline
    return sorted(roles), discipline


async def sign_in_with_provider(conn: asyncpg.Connection, config: OidcConfig, identity: Identity) -> UUID:
    """The user the provider vouches for (linked, matched or provisioned); NotAuthenticated otherwise."""
    async with conn.transaction():
        row = await queries.auth.get_user_by_identity(conn, issuer=identity.issuer, subject=identity.subject)
        if row is None and identity.email and identity.email_verified is not False:
            row = await queries.auth.get_user_by_email_for_sso(conn, email=identity.email)
        roles, discipline = grants_for(identity.groups, config.group_map)
        if config.group_map and not roles:
            raise _refused("Your account at the identity provider grants no Tumorboard role", row)
        if row is not None and not row["is_active"]:
            raise _refused("This account is deactivated", row)
        if Role.REVIEWER in roles and discipline is None:
            discipline = row["discipline"] if row is not None else None
            if discipline is None:
                raise _refused("Your groups make you a reviewer but name no discipline", row)
        if row is None:
            user_id = await _provision(conn, config, identity, roles, discipline)
        else:
            user_id = row["id"]
            if config.group_map and await queries.auth.set_user_grants_from_provider(
                conn, id=user_id, roles=[str(role) for role in roles], discipline=discipline
            ):
                await audit.record(conn, user_id, "update", "user", user_id)
        try:
            async with conn.transaction():
                await queries.auth.link_user_identity(
                    conn, issuer=identity.issuer, subject=identity.subject, user_id=user_id
                )
        except asyncpg.UniqueViolationError:
            raise _refused("This account is linked to another identity at the provider", row) from None
        await audit.record(conn, user_id, "sign_in", "user", user_id)
    return user_id


async def _provision(
    conn: asyncpg.Connection,
    config: OidcConfig,
    identity: Identity,
    roles: list[Role],
    discipline: Discipline | None,
) -> UUID:
    if not config.provision_users or not roles or not identity.email or identity.email_verified is False:
        raise _refused("No Tumorboard account matches this sign-in; ask an administrator", None)
    full_name = (identity.full_name or identity.email.split("@", 1)[0])[:_NAME_MAX]
    try:
        async with conn.transaction():
            user_id: UUID = await queries.auth.insert_provisioned_user(
                conn,
                email=identity.email[:_NAME_MAX],
                full_name=full_name,
                roles=[str(role) for role in roles],
                discipline=discipline,
            )
    except asyncpg.CheckViolationError:
        raise _refused("The provider's email address or name cannot be used here", None) from None
    await audit.record(conn, user_id, "create", "user", user_id)
    return user_id


def _refused(reason: str, row: Record | None) -> NotAuthenticated:
    return NotAuthenticated(
        reason, audit=AuditNote("sign_in", "user", row["id"] if row is not None else None)
    )
