"""Who may call each route of the app: the declared policy the authorization matrix checks
(tests/test_authorization_matrix.py). One entry per (method, path template) as Litestar routes them;
a route without an entry fails the matrix.

`allowed` roles may call the route on any record; `own` roles only on their own records: the case
they present or, for reviewers, a case or meeting they take part in (the chair for the chair's
actions, the author for a recommendation). "anonymous" in `allowed` makes the route public. Routes
whose record the matrix cannot create (a notification, a dead job, a calendar secret, a letter the
worker has not written) say `seeded=False`: a 404 there says nothing, any other answer is checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("admin", "coordinator", "presenter", "reviewer")
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Rule:
    """Who may call one route."""

    allowed: frozenset[str]
    own: frozenset[str] = field(default_factory=frozenset)
    seeded: bool = True

    def permits(self, role: str, own_record: bool) -> bool:
        """Whether the role may call the route on its own record, or on another's."""
        return role in self.allowed or (own_record and role in self.own)


def rule(*allowed: str, own: tuple[str, ...] = (), seeded: bool = True) -> Rule:
    return Rule(frozenset(allowed), frozenset(own), seeded)


PUBLIC = rule(ANONYMOUS, *ROLES)
SIGNED_IN = rule(*ROLES)
ADMIN = rule("admin")
COORDINATOR = rule("coordinator")
# A case's record: coordinators, its presenter, the participants of its meeting.
CASE = rule("coordinator", own=("presenter", "reviewer"))
# A meeting's record: coordinators and its participants.
MEETING = rule("coordinator", own=("reviewer",))
# What the chair of the meeting does (coordinators may too).
CHAIR = rule("coordinator", own=("reviewer",))
CHAIR_ONLY = rule(own=("reviewer",))
PRESENTER_ONLY = rule(own=("presenter",))

API = "/api/v1"

POLICY: dict[tuple[str, str], Rule] = {
    # Sign-in, the caller's own account, user administration
    ("POST", f"{API}/auth/token"): PUBLIC,
    ("DELETE", f"{API}/auth/token"): SIGNED_IN,
    ("POST", f"{API}/auth/oidc/token"): rule(ANONYMOUS, *ROLES, seeded=False),
    ("GET", f"{API}/me"): SIGNED_IN,
    ("POST", f"{API}/me/password"): SIGNED_IN,
    ("GET", f"{API}/users"): rule("admin", "coordinator"),
    ("POST", f"{API}/users"): ADMIN,
    ("PATCH", f"{API}/users/{{user_id:uuid}}"): ADMIN,
    ("POST", f"{API}/users/{{user_id:uuid}}/password-reset"): ADMIN,
    # Boards and series
    ("GET", f"{API}/boards"): SIGNED_IN,
    ("POST", f"{API}/boards"): COORDINATOR,
    ("GET", f"{API}/boards/{{board_id:uuid}}"): SIGNED_IN,
    ("PATCH", f"{API}/boards/{{board_id:uuid}}"): COORDINATOR,
    ("PUT", f"{API}/boards/{{board_id:uuid}}/checklist"): COORDINATOR,
    ("GET", f"{API}/boards/{{board_id:uuid}}/series"): SIGNED_IN,
    ("POST", f"{API}/boards/{{board_id:uuid}}/series"): COORDINATOR,
    ("GET", f"{API}/series/{{series_id:uuid}}"): SIGNED_IN,
    ("PUT", f"{API}/series/{{series_id:uuid}}/participants"): COORDINATOR,
    ("POST", f"{API}/series/{{series_id:uuid}}/end"): COORDINATOR,
    # Meetings
    ("GET", f"{API}/meetings"): SIGNED_IN,
    ("POST", f"{API}/meetings"): COORDINATOR,
    ("GET", f"{API}/meetings/{{meeting_id:uuid}}"): MEETING,
    ("PATCH", f"{API}/meetings/{{meeting_id:uuid}}"): COORDINATOR,
    ("PUT", f"{API}/meetings/{{meeting_id:uuid}}/participants"): COORDINATOR,
    ("POST", f"{API}/meetings/{{meeting_id:uuid}}/cancel"): COORDINATOR,
    ("POST", f"{API}/meetings/{{meeting_id:uuid}}/start"): CHAIR,
    ("POST", f"{API}/meetings/{{meeting_id:uuid}}/close"): CHAIR,
    ("PUT", f"{API}/meetings/{{meeting_id:uuid}}/attendance"): CHAIR,
    ("PUT", f"{API}/meetings/{{meeting_id:uuid}}/current-case"): CHAIR,
    ("POST", f"{API}/meetings/{{meeting_id:uuid}}/next-case"): CHAIR,
    ("GET", f"{API}/meetings/{{meeting_id:uuid}}/agenda"): MEETING,
    ("GET", f"{API}/meetings/{{meeting_id:uuid}}/agenda.html"): MEETING,
    ("GET", f"{API}/meetings/{{meeting_id:uuid}}/agenda.pdf"): MEETING,
    ("GET", f"{API}/meetings/{{meeting_id:uuid}}/pack.pdf"): MEETING,
    ("GET", f"{API}/meetings/{{meeting_id:uuid}}/invite.ics"): MEETING,
    ("GET", f"{API}/meetings/{{meeting_id:uuid}}/slots"): rule("coordinator", own=("reviewer", "presenter")),
    # Calendars
    ("POST", f"{API}/me/calendar-feed"): SIGNED_IN,
    ("DELETE", f"{API}/me/calendar-feed"): SIGNED_IN,
    ("GET", f"{API}/calendar/{{feed:str}}"): rule(ANONYMOUS, *ROLES, seeded=False),
    # Cases
    ("GET", f"{API}/cases"): SIGNED_IN,
    ("POST", f"{API}/cases"): rule("presenter"),
    ("GET", f"{API}/cases/{{case_id:uuid}}"): CASE,
    ("PUT", f"{API}/cases/{{case_id:uuid}}/meeting"): COORDINATOR,
    ("POST", f"{API}/cases/{{case_id:uuid}}/withdraw"): PRESENTER_ONLY,
    ("GET", f"{API}/cases/{{case_id:uuid}}/readiness"): CASE,
    ("PATCH", f"{API}/cases/{{case_id:uuid}}/readiness"): rule("coordinator", own=("presenter",)),
    ("GET", f"{API}/cases/{{case_id:uuid}}/attachments"): CASE,
    ("POST", f"{API}/cases/{{case_id:uuid}}/attachments"): rule("coordinator", own=("presenter",)),
    ("GET", f"{API}/attachments/{{attachment_id:uuid}}"): CASE,
    # Recommendations and decisions
    ("GET", f"{API}/cases/{{case_id:uuid}}/recommendations"): CASE,
    ("POST", f"{API}/cases/{{case_id:uuid}}/recommendations"): rule(own=("reviewer",)),
    ("PUT", f"{API}/recommendations/{{recommendation_id:uuid}}"): rule(own=("reviewer",)),
    ("GET", f"{API}/cases/{{case_id:uuid}}/decisions"): CASE,
    ("POST", f"{API}/cases/{{case_id:uuid}}/decision"): CHAIR_ONLY,
    # Care plans, letters, follow-up
    ("GET", f"{API}/cases/{{case_id:uuid}}/care-plan"): CASE,
    ("GET", f"{API}/cases/{{case_id:uuid}}/care-plan.html"): CASE,
    ("GET", f"{API}/cases/{{case_id:uuid}}/care-plan.pdf"): CASE,
    ("GET", f"{API}/cases/{{case_id:uuid}}/care-plan.fhir.json"): CASE,
    ("GET", f"{API}/cases/{{case_id:uuid}}/care-plans"): CASE,
    ("GET", f"{API}/cases/{{case_id:uuid}}/care-plans/{{document:str}}"): CASE,
    ("GET", f"{API}/cases/{{case_id:uuid}}/care-plans/{{version:int}}/diff"): CASE,
    ("POST", f"{API}/cases/{{case_id:uuid}}/care-plan/sign"): CHAIR_ONLY,
    ("POST", f"{API}/cases/{{case_id:uuid}}/care-plan/amend"): CHAIR_ONLY,
    ("GET", f"{API}/cases/{{case_id:uuid}}/care-plan/follow-up"): CASE,
    ("PUT", f"{API}/cases/{{case_id:uuid}}/care-plan/follow-up"): PRESENTER_ONLY,
    ("GET", f"{API}/cases/{{case_id:uuid}}/letters"): CASE,
    ("GET", f"{API}/cases/{{case_id:uuid}}/letters/{{document:str}}"): rule(
        "coordinator", own=("presenter", "reviewer"), seeded=False
    ),
    # Reports, notifications, audit, jobs
    ("GET", f"{API}/reports/care-plan-follow-up"): COORDINATOR,
    ("GET", f"{API}/reports/quality"): rule("admin", "coordinator"),
    ("GET", f"{API}/me/notifications"): SIGNED_IN,
    ("POST", f"{API}/me/notifications/read-all"): SIGNED_IN,
    ("POST", f"{API}/me/notifications/{{notification_id:uuid}}/read"): rule(*ROLES, seeded=False),
    ("GET", f"{API}/audit"): ADMIN,
    ("GET", f"{API}/admin/jobs/dead"): ADMIN,
    ("POST", f"{API}/admin/jobs/dead/{{job_id:int}}/retry"): rule("admin", seeded=False),
    # The API's documentation
    ("GET", f"{API}/schema"): PUBLIC,
    ("GET", f"{API}/schema/openapi.json"): PUBLIC,
    ("GET", f"{API}/schema/swagger"): PUBLIC,
    ("GET", f"{API}/schema/redoc"): PUBLIC,
    ("GET", f"{API}/schema/{{path:str}}"): rule(ANONYMOUS, *ROLES, seeded=False),
    # Probes, metrics, assets
    ("GET", "/health/live"): PUBLIC,
    ("GET", "/health/ready"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/static/{file_path:path}"): PUBLIC,
    ("GET", "/favicon.ico"): PUBLIC,
    # Pages: sign-in and the account
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): SIGNED_IN,
    ("GET", "/auth/oidc/login"): rule(ANONYMOUS, *ROLES, seeded=False),
    ("GET", "/auth/oidc/callback"): rule(ANONYMOUS, *ROLES, seeded=False),
    ("GET", "/auth/oidc/signed-out"): rule(ANONYMOUS, *ROLES, seeded=False),
    ("GET", "/"): SIGNED_IN,
    ("GET", "/account"): SIGNED_IN,
    ("GET", "/account/password"): SIGNED_IN,
    ("POST", "/account/password"): SIGNED_IN,
    ("POST", "/account/sign-out-everywhere"): SIGNED_IN,
    ("POST", "/notifications/read-all"): SIGNED_IN,
    ("GET", "/notifications"): SIGNED_IN,
    ("POST", "/notifications/{notification_id:uuid}/read"): rule(*ROLES, seeded=False),
    ("POST", "/account/calendar-feed"): SIGNED_IN,
    ("POST", "/account/calendar-feed/revoke"): SIGNED_IN,
    # Pages: cases
    ("GET", "/cases"): SIGNED_IN,
    # The empty submission form and its rows hold no record; submitting is for presenters.
    ("GET", "/cases/new"): rule("presenter"),
    ("POST", "/cases/new"): rule("presenter"),
    ("GET", "/cases/new/biomarker-row"): rule("presenter"),
    ("GET", "/cases/new/comorbidity-row"): rule("presenter"),
    ("GET", "/cases/new/treatment-row"): rule("presenter"),
    ("GET", "/cases/{case_id:uuid}"): CASE,
    ("GET", "/cases/{case_id:uuid}/live"): CASE,
    ("POST", "/cases/{case_id:uuid}/meeting"): COORDINATOR,
    ("POST", "/cases/{case_id:uuid}/withdraw"): PRESENTER_ONLY,
    ("POST", "/cases/{case_id:uuid}/attachments"): rule("coordinator", own=("presenter",)),
    ("GET", "/cases/{case_id:uuid}/attachments/{attachment_id:uuid}"): CASE,
    ("GET", "/attachments/{attachment_id:uuid}/inline"): CASE,
    ("POST", "/cases/{case_id:uuid}/decision"): CHAIR_ONLY,
    # The form shows the case (to whoever may see it); recording is for the meeting's reviewers.
    ("GET", "/cases/{case_id:uuid}/recommendation"): rule(own=("reviewer",)),
    ("POST", "/cases/{case_id:uuid}/recommendation"): rule(own=("reviewer",)),
    ("GET", "/cases/{case_id:uuid}/care-plan"): CASE,
    ("GET", "/cases/{case_id:uuid}/care-plan/versions"): CASE,
    ("GET", "/cases/{case_id:uuid}/care-plan/diff"): CASE,
    ("POST", "/cases/{case_id:uuid}/care-plan/amend"): CHAIR_ONLY,
    ("GET", "/cases/{case_id:uuid}/readiness"): CASE,
    ("POST", "/cases/{case_id:uuid}/readiness"): rule("coordinator", own=("presenter",)),
    ("POST", "/cases/{case_id:uuid}/care-plan/sign"): CHAIR_ONLY,
    ("GET", "/cases/{case_id:uuid}/follow-up"): CASE,
    ("POST", "/cases/{case_id:uuid}/follow-up"): PRESENTER_ONLY,
    # Pages: meetings
    ("GET", "/meetings"): SIGNED_IN,
    # The empty scheduling form holds no record; scheduling is for coordinators.
    ("GET", "/meetings/new"): rule("coordinator"),
    ("POST", "/meetings"): COORDINATOR,
    # The page shows presenters of the meeting's cases their running order (as GET .../slots).
    ("GET", "/meetings/{meeting_id:uuid}"): rule("coordinator", own=("reviewer", "presenter")),
    ("GET", "/meetings/{meeting_id:uuid}/live"): MEETING,
    ("GET", "/meetings/{meeting_id:uuid}/participants"): COORDINATOR,
    ("GET", "/meetings/{meeting_id:uuid}/edit"): COORDINATOR,
    ("POST", "/meetings/{meeting_id:uuid}/edit"): COORDINATOR,
    ("POST", "/meetings/{meeting_id:uuid}/participants"): COORDINATOR,
    ("POST", "/meetings/{meeting_id:uuid}/cancel"): COORDINATOR,
    ("POST", "/meetings/{meeting_id:uuid}/start"): CHAIR,
    ("POST", "/meetings/{meeting_id:uuid}/close"): CHAIR,
    ("POST", "/meetings/{meeting_id:uuid}/attendance"): CHAIR,
    ("GET", "/meetings/{meeting_id:uuid}/present"): MEETING,
    ("POST", "/meetings/{meeting_id:uuid}/present"): CHAIR,
    ("GET", "/meetings/{meeting_id:uuid}/present/live"): MEETING,
    ("POST", "/meetings/{meeting_id:uuid}/next-case"): CHAIR,
    ("GET", "/meetings/{meeting_id:uuid}/slots/live"): rule("coordinator", own=("reviewer", "presenter")),
    # Pages: boards, reports, administration
    ("GET", "/boards"): SIGNED_IN,
    ("POST", "/boards"): COORDINATOR,
    ("GET", "/boards/{board_id:uuid}"): SIGNED_IN,
    ("POST", "/boards/{board_id:uuid}"): COORDINATOR,
    ("POST", "/boards/{board_id:uuid}/checklist"): COORDINATOR,
    ("POST", "/boards/{board_id:uuid}/series"): COORDINATOR,
    ("GET", "/series/{series_id:uuid}"): SIGNED_IN,
    ("GET", "/series/{series_id:uuid}/participants"): COORDINATOR,
    ("POST", "/series/{series_id:uuid}/participants"): COORDINATOR,
    ("POST", "/series/{series_id:uuid}/end"): COORDINATOR,
    ("GET", "/reports/quality"): rule("admin", "coordinator"),
    ("GET", "/reports/quality.csv"): rule("admin", "coordinator"),
    ("GET", "/reports/quality/charts/{name:str}"): rule("admin", "coordinator"),
    ("GET", "/admin/users"): ADMIN,
    ("POST", "/admin/users"): ADMIN,
    ("GET", "/admin/users/{user_id:uuid}"): ADMIN,
    ("POST", "/admin/users/{user_id:uuid}"): ADMIN,
    ("POST", "/admin/users/{user_id:uuid}/password-reset"): ADMIN,
    ("POST", "/admin/users/{user_id:uuid}/sign-out-everywhere"): ADMIN,
    ("GET", "/admin/audit"): ADMIN,
    ("GET", "/admin/audit.csv"): ADMIN,
    ("GET", "/admin/jobs"): ADMIN,
    ("POST", "/admin/jobs/{job_id:int}/retry"): rule("admin", seeded=False),
}
