"""The scale benchmark's data: a regional network's decade of tumor boards, generated in SQL.

Everything is a pure function of an ordinal, so the data grows in place: `grow(conn, clock, cases)`
adds the cases (and their patients, meetings, recommendations, care plans and audit rows) with
ordinals below `cases` that are not there yet. Ordinal 0 is the newest case; a higher ordinal is
older (one case every ~5 minutes, so a million cases span ten years). Ids are md5 hashes of the
ordinal, so every row can name the rows it points to without a lookup.

The present is the same at every size: 40 boards, 3,000 users, meetings every ~1.75 hours across
the boards for the next 14 days (the nearest ~6 days booked), 200 freshly submitted cases waiting,
and a week of finished outbox jobs. The history behind it is what grows: at 10,000 cases it covers
the last five weeks, at 1,000,000 ten years. Per case: 0.3 patients, 0.05 meetings (20 cases
each), about 2 recommendations, 1.04 care plan versions and 20 audit events.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg

from tumorboard.enums import DiseaseSite

BOARDS = 40
POOL = 36  # reviewers per board: 6 of each of the 6 disciplines below
DISCIPLINES = (
    "medical_oncology",
    "surgical_oncology",
    "radiation_oncology",
    "pathology",
    "radiology",
    "nuclear_medicine",
)
REVIEWERS = BOARDS * POOL  # user ordinals 0..1439
PRESENTERS = 1460  # user ordinals 1440..2899
COORDINATORS = 80  # user ordinals 2900..2979
ADMINS = 20  # user ordinals 2980..2999
USERS = REVIEWERS + PRESENTERS + COORDINATORS + ADMINS
CASES_PER_MEETING = 20
FIRST_BOOKED_MEETING = 55  # meetings 0..54 (6 to 14 days ahead) are still empty
WAITING_CASES = 200  # ordinals 0..199 are freshly submitted
CASE_SECONDS = 315.576  # ten years / one million cases
MEETING_SECONDS = CASE_SECONDS * CASES_PER_MEETING
AHEAD_SECONDS = 14 * 86400  # meeting 0 starts 14 days from the clock
AUDIT_PER_CASE = 20
CHUNK = 100_000  # cases per statement while growing

CODES = {
    "breast": ["C50.911", "C50.912", "C50.411"],
    "thoracic": ["C34.90", "C34.11", "C34.31"],
    "colorectal": ["C18.7", "C20", "C18.2"],
    "upper_gi": ["C16.9", "C15.5", "C16.0"],
    "hepatobiliary": ["C22.0", "C23", "C24.0"],
    "pancreas": ["C25.0", "C25.1", "C25.9"],
    "genitourinary": ["C67.9", "C64.1", "C62.90"],
    "prostate": ["C61", "C61", "C61"],
    "gynecologic": ["C56.9", "C53.9", "C54.1"],
    "head_and_neck": ["C32.9", "C01", "C09.9"],
    "neuro": ["C71.9", "C71.1", "C72.0"],
    "skin": ["C43.9", "C43.5", "C44.91"],
    "sarcoma": ["C49.9", "C40.20", "C48.0"],
    "lymphoma": ["C83.30", "C81.90", "C85.90"],
    "leukemia": ["C92.00", "C91.10", "C92.10"],
    "myeloma": ["C90.00", "C90.01", "C90.02"],
    "endocrine": ["C73", "C74.90", "C75.0"],
    "other": ["C80.1", "C76.0", "C80.0"],
}
# fmt: off
GIVEN_NAMES = (
    "Ada", "Alan", "Alice", "Amir", "Ana", "Anna", "Arjun", "Beatriz", "Ben", "Carla", "Chen", "Chloe",
    "Daniel", "David", "Dmitri", "Elena", "Emma", "Eva", "Farah", "Fatima", "Felix", "Grace", "Hana",
    "Hugo", "Ines", "Ivan", "Jakob", "James", "Jana", "José", "Julia", "Kai", "Karin", "Kenji", "Laila",
    "Lars", "Lea", "Leo", "Lina", "Luca", "Lucia", "Maja", "Marco", "Maria", "Marta", "Mateo", "Mei",
    "Mia", "Mohammed", "Nadia", "Nils", "Noah", "Nora", "Olga", "Omar", "Oscar", "Paul", "Pedro",
    "Petra", "Priya", "Rafael", "Rosa", "Ruth", "Sara", "Sofia", "Stefan", "Tariq", "Teresa", "Tomas",
    "Una", "Vera", "Victor", "Wei", "Yara", "Yusuf", "Zoe", "Zofia", "Agnes", "Bruno", "Clara", "Dario",
    "Edith", "Frida", "Gustav", "Helga", "Igor", "Jonas", "Kofi", "Lotte", "Milan", "Nina", "Otto",
    "Rita",
)
FAMILY_STARTS = (
    "ab", "ad", "al", "an", "ar", "as", "ba", "be", "bo", "br", "ca", "ch", "co", "da", "de", "do",
    "el", "en", "fa", "fe", "fo", "ga", "go", "gr", "ha", "he", "ho", "ja", "jo", "ka", "ke", "ko",
    "la", "le", "lo", "ma", "me", "mo", "na", "ne", "no", "ob", "or", "pa", "pe", "po", "ra", "re",
    "ro", "sa", "se", "so", "ta", "te", "to", "va", "ve", "vo", "wa", "we",
)
FAMILY_ENDS = (
    "bauer", "berg", "bert", "cker", "dahl", "dottir", "ez", "field", "ford", "garten", "gren", "hart",
    "holm", "ini", "ist", "jevic", "kov", "lund", "mann", "mont", "nen", "oglu", "ova", "quist", "rand",
    "rez", "rossi", "sen", "shaw", "ski", "son", "stein", "ström", "tani", "vall", "vic", "wood",
    "yama", "zadeh",
)
# fmt: on


@asynccontextmanager
async def _timed(log: list[dict[str, Any]], step: str) -> AsyncIterator[None]:
    started = time.perf_counter()
    yield
    seconds = round(time.perf_counter() - started, 1)
    log.append({"step": step, "seconds": seconds})
    print(f"    {step}: {seconds} s", flush=True)


async def create_present(conn: asyncpg.Connection, clock: datetime, password_hash: str) -> None:
    """Users, boards, their reviewer pools and a week of finished outbox jobs (the same at every size)."""
    sites = [str(site) for site in DiseaseSite]
    await conn.execute(
        """
        INSERT INTO app_user (id, email, full_name, password_hash, roles, discipline, created_at)
        SELECT md5('u' || u)::uuid,
               'user' || u || '@scale.invalid',
               (ARRAY['Dr', 'Dr', 'Ms', 'Mr'])[1 + u % 4] || ' Scale User ' || u,
               $1,
               CASE WHEN u < $2 THEN '{reviewer}'
                    WHEN u < $2 + $3 THEN '{presenter}'
                    WHEN u < $2 + $3 + $4 THEN '{coordinator}'
                    ELSE '{admin}' END::text[],
               CASE WHEN u < $2 THEN ($5::text[])[1 + (u % $6) / 6]
                    WHEN u < $2 + $3 THEN 'medical_oncology' END,
               $7::timestamptz - interval '11 years'
        FROM generate_series(0, $8 - 1) AS u
        """,
        password_hash,
        REVIEWERS,
        PRESENTERS,
        COORDINATORS,
        list(DISCIPLINES),
        POOL,
        clock,
        USERS,
    )
    await conn.execute(
        """
        INSERT INTO board (id, name, disease_sites, required_disciplines, created_at)
        SELECT md5('b' || b)::uuid,
               'Scale board ' || lpad(b::text, 2, '0'),
               CASE WHEN b < 18 THEN ARRAY[($1::text[])[1 + b]]
                    ELSE ARRAY[($1::text[])[1 + b % 18], ($1::text[])[1 + (b + 7) % 18]] END,
               ARRAY['medical_oncology', 'surgical_oncology', 'radiation_oncology']
                   || CASE WHEN b % 2 = 0 THEN ARRAY['pathology'] ELSE '{}' END
                   || CASE WHEN b % 3 = 0 THEN ARRAY['radiology'] ELSE '{}' END,
               $2::timestamptz - interval '11 years'
        FROM generate_series(0, $3 - 1) AS b
        """,
        sites,
        clock,
        BOARDS,
    )
    await conn.execute(
        """
        INSERT INTO outbox (job, subject_id, created_at, attempts, arq_job_id, enqueued_at, done_at)
        SELECT (ARRAY['assign_case', 'consolidate_care_plan', 'render_care_plan_pdf'])[1 + n % 3],
               md5('c' || (n / 3))::uuid,
               $1::timestamptz - make_interval(secs => n * $2 / 3),
               1, 'outbox:' || n || ':1',
               $1::timestamptz - make_interval(secs => n * $2 / 3) + interval '20 milliseconds',
               $1::timestamptz - make_interval(secs => n * $2 / 3) + interval '300 milliseconds'
        FROM generate_series(0, (7 * 86400 / $2)::integer * 3) AS n
        """,
        clock,
        CASE_SECONDS,
    )


async def grow(
    conn: asyncpg.Connection, clock: datetime, cases: int, *, audit_events: bool = True
) -> list[dict[str, Any]]:
    """Add every case with an ordinal below `cases` that is not there yet, with what hangs on it
    (without its audit events when told so); returns how long each step took.

    Loaded the way a bulk import is: with the session's triggers off (foreign-key checks included)
    and the secondary indexes of the big tables dropped, then rebuilt. What the triggers would have
    kept (each case's search words, each meeting's case count and agenda lock time, each decision's
    board) is written by the same SQL functions and rules here, and `consistency()` checks it
    afterwards.
    """
    have = await conn.fetchval("SELECT count(*) FROM patient_case")
    log: list[dict[str, Any]] = []
    first_meeting = await conn.fetchval("SELECT count(*) FROM meeting")
    last_meeting = FIRST_BOOKED_MEETING + (cases - 1) // CASES_PER_MEETING + 1
    have_patients = await conn.fetchval("SELECT count(*) FROM patient")
    patients = _patients_for(cases)
    await conn.execute(
        "SELECT audit_event_add_partitions("
        " ($1::timestamptz - make_interval(secs => $2))::date, $1::date + 400)",
        clock,
        cases * CASE_SECONDS + 86400,
    )
    async with _timed(log, "drop secondary indexes"):
        indexes = await _drop_secondary_indexes(conn)
    await conn.execute("SET session_replication_role = replica")
    try:
        async with _timed(log, f"meetings {first_meeting}..{last_meeting - 1} with participants"):
            await _meetings(conn, clock, first_meeting, last_meeting)
        async with _timed(log, f"patients {have_patients}..{patients - 1}"):
            await _patients(conn, have_patients, patients)
        for start in range(have, cases, CHUNK):
            end = min(cases, start + CHUNK)
            async with _timed(log, f"cases {start}..{end - 1} with recommendations, care plans, audit"):
                await _cases(conn, clock, start, end, audit_events=audit_events)
        async with _timed(log, "meeting case counts"):
            await _count_cases(conn)
    finally:
        await conn.execute("RESET session_replication_role")
    async with _timed(log, f"rebuild {len(indexes)} indexes"):
        for definition in indexes:
            await conn.execute(definition)
    async with _timed(log, "vacuum analyze, checkpoint"):
        # As after any bulk import: nothing left for autovacuum or the checkpointer to do while the
        # benchmark measures, and visibility maps set for index-only scans.
        await conn.execute(f"VACUUM (ANALYZE) {', '.join(BULK_TABLES)}, board, app_user, outbox")
        await conn.execute("CHECKPOINT")
    return log


BULK_TABLES = (
    "patient",
    "patient_case",
    "case_participant",
    "board_decision",
    "meeting_attendance",
    "meeting",
    "meeting_participant",
    "recommendation",
    "care_plan",
    "audit_event",
)


async def _drop_secondary_indexes(conn: asyncpg.Connection) -> list[str]:
    """Drop the indexes of the big tables that back no constraint; their definitions."""
    rows = await conn.fetch(
        """
        SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index i
        WHERE i.indrelid = ANY ($1::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        """,
        list(BULK_TABLES),
    )
    for row in rows:
        await conn.execute(f"DROP INDEX {row['name']}")
    return [row["definition"] for row in rows]


async def consistency(conn: asyncpg.Connection) -> dict[str, int]:
    """What the triggers would have kept, checked (each count must be 0; case_participant by its size,
    which is exact when nothing else writes to it: tests/test_case_lists.py compares it row by row)."""
    return {
        "miscounted_meetings": await conn.fetchval(
            "SELECT count(*) FROM meeting m WHERE m.case_count <> (SELECT count(*) FROM patient_case c"
            " WHERE c.meeting_id = m.id AND c.status <> 'withdrawn')"
        ),
        "stale_search_vectors": await conn.fetchval(
            "SELECT count(*) FROM patient_case c JOIN patient p ON p.id = c.patient_id"
            " WHERE c.search_vector"
            " <> case_search_vector(p.mrn, p.given_name, p.family_name, c.diagnosis ->> 'code')"
        ),
        "case_participant_rows_missing_or_extra": await conn.fetchval(
            "SELECT abs((SELECT count(*) FROM case_participant) - (SELECT count(*) FROM patient_case c"
            " JOIN meeting_participant mp ON mp.meeting_id = c.meeting_id AND mp.user_id <> c.presenter_id))"
        ),
        "decisions_of_another_board": await conn.fetchval(
            "SELECT count(*) FROM board_decision d JOIN meeting m ON m.id = d.meeting_id"
            " WHERE d.board_id <> m.board_id"
        ),
        "wrong_agenda_lock_times": await conn.fetchval(
            "SELECT count(*) FROM meeting"
            " WHERE agenda_locks_at <> starts_at - make_interval(hours => agenda_lock_hours)"
        ),
    }


async def _count_cases(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """
        UPDATE meeting m SET case_count = x.cases
        FROM (SELECT meeting_id, count(*)::integer AS cases FROM patient_case
              WHERE meeting_id IS NOT NULL AND status <> 'withdrawn' GROUP BY meeting_id) AS x
        WHERE m.id = x.meeting_id AND m.case_count <> x.cases
        """
    )


def _patients_for(cases: int) -> int:
    """How many patients the cases below an ordinal need: case k belongs to patient
    (k permuted within its thousand) * 3 / 10, so each patient has about 3.3 cases near each other."""
    return (-(-cases // 1000) * 1000 - 1) * 3 // 10 + 1


async def _meetings(conn: asyncpg.Connection, clock: datetime, first: int, last: int) -> None:
    """Meetings first..last-1 with their six participants, and the attendance of those held."""
    await conn.execute(
        """
        INSERT INTO meeting (id, board_id, starts_at, duration_minutes, location, capacity,
                             submission_deadline, status, minutes_per_case, agenda_locks_at, agenda_locked_at,
                             agenda_sent_at, presenters_reminded_at, own_participants, started_at,
                             closed_at, created_at, updated_at)
        SELECT md5('m' || j)::uuid, md5('b' || j % $4)::uuid, s.starts_at, 150,
               'Room ' || (1 + j % 12), 25, s.starts_at - interval '48 hours',
               CASE WHEN s.starts_at > $1 THEN 'scheduled' ELSE 'closed' END, 6,
               s.starts_at - interval '24 hours',
               CASE WHEN s.starts_at - interval '25 hours' <= $1 THEN least($1, s.starts_at) END,
               CASE WHEN s.starts_at - interval '25 hours' <= $1 THEN least($1, s.starts_at) END,
               least($1, s.starts_at - interval '48 hours'), true,
               CASE WHEN s.starts_at <= $1 THEN s.starts_at END,
               CASE WHEN s.starts_at <= $1 THEN s.starts_at + interval '150 minutes' END,
               s.starts_at - interval '60 days', least($1, s.starts_at + interval '150 minutes')
        FROM generate_series($2::bigint, $3::bigint - 1) AS j,
             LATERAL (SELECT $1::timestamptz + make_interval(secs => $5 - j * $6) AS starts_at) AS s
        """,
        clock,
        first,
        last,
        BOARDS,
        AHEAD_SECONDS,
        MEETING_SECONDS,
    )
    await conn.execute(
        """
        INSERT INTO meeting_participant (meeting_id, user_id, role)
        SELECT md5('m' || j)::uuid,
               md5('u' || ((j % $3) * $4 + d * 6 + (j / $3 + d) % 6))::uuid,
               CASE WHEN d = 0 THEN 'chair' ELSE 'reviewer' END
        FROM generate_series($1::bigint, $2::bigint - 1) AS j, generate_series(0, 5) AS d
        """,
        first,
        last,
        BOARDS,
        POOL,
    )
    # Who came to each meeting that was held: everyone, but the sixth participant of one in nine.
    await conn.execute(
        """
        INSERT INTO meeting_attendance (meeting_id, user_id, status, recorded_by, recorded_at)
        SELECT md5('m' || j)::uuid,
               md5('u' || ((j % $3) * $4 + d * 6 + (j / $3 + d) % 6))::uuid,
               CASE WHEN d = 5 AND j % 9 = 0 THEN 'absent' ELSE 'present' END,
               md5('u' || ((j % $3) * $4 + (j / $3) % 6))::uuid,
               $5::timestamptz + make_interval(secs => $6 - j * $7) + interval '5 minutes'
        FROM generate_series($1::bigint, $2::bigint - 1) AS j, generate_series(0, 5) AS d
        WHERE $5::timestamptz + make_interval(secs => $6 - j * $7) <= $5::timestamptz
        """,
        first,
        last,
        BOARDS,
        POOL,
        clock,
        AHEAD_SECONDS,
        MEETING_SECONDS,
    )


async def _patients(conn: asyncpg.Connection, first: int, last: int) -> None:
    await conn.execute(
        """
        INSERT INTO patient (id, mrn, given_name, family_name, birth_date, sex)
        SELECT md5('p' || p)::uuid,
               'MRN' || lpad(p::text, 7, '0'),
               ($3::text[])[1 + (p * 7) % cardinality($3::text[])],
               initcap(($4::text[])[1 + (p * 13) % cardinality($4::text[])]
                       || ($5::text[])[1 + (p * 31 / 7) % cardinality($5::text[])]),
               date '1935-01-01' + ((p * 7919) % 25000)::integer,
               (ARRAY['female', 'male', 'female', 'male', 'other', 'unknown'])[1 + p % 6]
        FROM generate_series($1::bigint, $2::bigint - 1) AS p
        """,
        first,
        last,
        list(GIVEN_NAMES),
        list(FAMILY_STARTS),
        list(FAMILY_ENDS),
    )


async def _cases(
    conn: asyncpg.Connection, clock: datetime, first: int, last: int, *, audit_events: bool
) -> None:
    """Cases first..last-1 (oldest first) with their recommendations, care plans and audit events."""
    await conn.execute(
        """
        CREATE TEMP TABLE scale_chunk AS
        SELECT k, j, md5('c' || k)::uuid AS id, md5('m' || j)::uuid AS meeting_id, s.starts_at,
               $1::timestamptz - make_interval(secs => (k + 1) * $4) AS created_at,
               CASE WHEN k < $5 THEN 'submitted'
                    WHEN s.starts_at > $1 THEN 'scheduled'
                    WHEN (k * 2654435761) % 100 < 4 THEN 'withdrawn'
                    WHEN k < 10000 AND (k * 2654435761) % 100 < 12 THEN 'discussed'
                    ELSE 'finalized' END AS status,
               md5('p' || ((k / 1000 * 1000 + k % 1000 * 337 % 1000) * 3 / 10))::uuid AS patient_id,
               md5('u' || ($6 + (k * 7919) % $7))::uuid AS presenter_id,
               md5('u' || ((j % $8) * $9 + (j / $8) % 6))::uuid AS chair_id,
               md5('u' || ((j % $8) * $9 + 6 + (j / $8 + 1) % 6))::uuid AS reviewer_id,
               md5('u' || ($6 + $7 + k % $14))::uuid AS coordinator_id,
               md5('u' || ($6 + (k * 31) % $7))::uuid AS outsider_id,
               j % $8 AS board
        FROM generate_series($3::bigint - 1, $2::bigint, -1) AS k,
             LATERAL (SELECT $10 + k / $11 AS j) AS jj,
             LATERAL (SELECT $1::timestamptz + make_interval(secs => $12 - j * $13) AS starts_at) AS s
        """,
        clock,
        first,
        last,
        CASE_SECONDS,
        WAITING_CASES,
        REVIEWERS,
        PRESENTERS,
        BOARDS,
        POOL,
        FIRST_BOOKED_MEETING,
        CASES_PER_MEETING,
        AHEAD_SECONDS,
        MEETING_SECONDS,
        COORDINATORS,
    )
    try:
        await _insert_cases(conn)
        await _insert_case_participants(conn)
        await _insert_decisions(conn)
        await _insert_recommendations(conn)
        await _insert_care_plans(conn)
        if audit_events:
            await _insert_audit_events(conn, clock)
    finally:
        await conn.execute("DROP TABLE scale_chunk")


async def _insert_cases(conn: asyncpg.Connection) -> None:
    sites = list(CODES)
    await conn.execute(
        """
        INSERT INTO patient_case (
            id, patient_id, presenter_id, disease_site, diagnosis, histology, stage, ecog, biomarkers,
            summary, question, urgency, status, meeting_id, discussion_closed_at, created_at, updated_at,
            treatment_started, search_vector)
        SELECT ch.id, ch.patient_id, ch.presenter_id, x.site,
               jsonb_build_object('code', x.code, 'system', 'ICD-10-CM',
                                  'display', 'Malignant neoplasm, ' || replace(x.site, '_', ' ')),
               'Adenocarcinoma',
               jsonb_build_object('system', 'AJCC8', 't', 'cT' || (1 + ch.k % 4), 'n', 'cN' || (ch.k % 3),
                                  'm', 'cM0', 'group', (ARRAY['I', 'IIA', 'IIB', 'IIIA'])[1 + ch.k % 4]),
               (ch.k % 3)::smallint,
               CASE WHEN ch.k % 4 = 0 THEN '[{"name": "HER2", "value": "positive"}]'::jsonb ELSE '[]' END,
               'Case ' || ch.k || ': imaging and biopsy reviewed; staging complete; discussed with patient.',
               'Which treatment sequence does the board recommend?',
               CASE WHEN ch.k % 10 = 0 THEN 'urgent' ELSE 'routine' END,
               ch.status,
               CASE WHEN ch.status <> 'submitted' THEN ch.meeting_id END,
               CASE WHEN ch.status IN ('discussed', 'finalized') THEN ch.starts_at + interval '1 hour' END,
               ch.created_at,
               ch.created_at,
               ch.k % 10 = 0,
               case_search_vector(p.mrn, p.given_name, p.family_name, x.code)
        FROM scale_chunk ch
        JOIN board b ON b.id = md5('b' || ch.board)::uuid
        JOIN patient p ON p.id = ch.patient_id,
             LATERAL (SELECT b.disease_sites[1 + ch.k % cardinality(b.disease_sites)] AS site) AS s,
             LATERAL (SELECT s.site,
                             ($2::text[])[3 * array_position($1::text[], s.site) - 2 + ch.k / 7 % 3] AS code
                     ) AS x
        ORDER BY ch.k DESC
        """,
        sites,
        [code for site in sites for code in CODES[site]],
    )


async def _insert_case_participants(conn: asyncpg.Connection) -> None:
    """What the case_participant triggers keep: each placed case with its meeting's participants."""
    await conn.execute(
        """
        INSERT INTO case_participant (case_id, user_id, case_created_at)
        SELECT ch.id, mp.user_id, ch.created_at
        FROM scale_chunk ch
        JOIN meeting_participant mp ON mp.meeting_id = ch.meeting_id AND mp.user_id <> ch.presenter_id
        WHERE ch.status <> 'submitted'
        """
    )


async def _insert_decisions(conn: asyncpg.Connection) -> None:
    """The board's decision on each decided case, recorded by its chair an hour into the meeting: a
    plan, mostly guideline-concordant, with the trial question and the stage mostly discussed."""
    await conn.execute(
        """
        INSERT INTO board_decision (
            id, case_id, meeting_id, revision, outcome, intent, modalities, summary, rationale,
            guideline, trial_status, stage_discussed, quorum_required, quorum_covered, quorum_missing,
            attendance, decided_by, decided_at, board_id)
        SELECT md5('d' || ch.k)::uuid, ch.id, ch.meeting_id, 1, 'plan', 'curative',
               '{systemic_therapy,surgery,radiation}',
               'Neoadjuvant systemic therapy, then surgery, then radiotherapy.',
               'Stage and biomarkers as reported.',
               jsonb_build_object('name', 'NCCN', 'version', '2026.1', 'concordant', ch.k % 7 <> 0),
               (ARRAY['not_considered', 'eligible', 'none_available', 'not_eligible'])[1 + ch.k % 4],
               ch.k % 4 <> 0,
               b.required_disciplines, b.required_disciplines, '{}', '[]',
               ch.chair_id, ch.starts_at + make_interval(mins => (60 + (ch.k % 20) * 6)::integer), b.id
        FROM scale_chunk ch
        JOIN board b ON b.id = md5('b' || ch.board)::uuid
        WHERE ch.status IN ('discussed', 'finalized')
        """
    )


async def _insert_recommendations(conn: asyncpg.Connection) -> None:
    """Two (every eighth case three) per decided case and one on every other scheduled case, by the
    participants of the case's meeting in discipline order."""
    await conn.execute(
        """
        INSERT INTO recommendation (id, case_id, author_id, discipline, intent, modalities, summary,
                                    rationale, guideline, version, created_at, updated_at)
        SELECT md5('r' || ch.k || '-' || d)::uuid, ch.id,
               CASE d WHEN 0 THEN ch.chair_id WHEN 1 THEN ch.reviewer_id
                      ELSE md5('u' || (ch.board * $1 + 12 + (ch.j / $2 + 2) % 6))::uuid END,
               ($3::text[])[1 + d], 'curative', '{systemic_therapy,surgery,radiation}',
               'Neoadjuvant systemic therapy, then surgery, then radiotherapy.',
               'Stage and biomarkers as reported.',
               '{"name": "NCCN", "version": "2026.1", "concordant": true}', 1,
               ch.created_at + make_interval(days => 1 + d), ch.created_at + make_interval(days => 1 + d)
        FROM scale_chunk ch, generate_series(0, 2) AS d
        WHERE (ch.status IN ('discussed', 'finalized') AND (d < 2 OR ch.k % 8 = 0))
           OR (ch.status = 'scheduled' AND ch.k % 2 = 0 AND d = 0)
        """,
        POOL,
        BOARDS,
        list(DISCIPLINES),
    )


async def _insert_care_plans(conn: asyncpg.Connection) -> None:
    """One version per decided case, two for every 25th; a finalized case's last version is signed."""
    await conn.execute(
        """
        INSERT INTO care_plan (id, case_id, version, status, consensus, content, source_fingerprint,
                               generated_at, signed_by, signed_at, content_hash, decision_id)
        SELECT md5('cp' || ch.k || '-' || v)::uuid, ch.id, v, x.status, ch.k % 5 <> 0,
               jsonb_build_object(
                   'decision', jsonb_build_object('outcome', 'plan', 'intent', 'curative',
                       'modalities', '["systemic_therapy", "surgery", "radiation"]'::jsonb,
                       'summary', 'Neoadjuvant systemic therapy, then surgery, then radiotherapy.'),
                   'recommendations', 2 + (ch.k % 8 = 0)::integer, 'quorum', 'met'),
               md5('f' || ch.k || '-' || v),
               ch.starts_at + make_interval(hours => 1 + v),
               CASE WHEN x.status = 'final' THEN ch.chair_id END,
               CASE WHEN x.status = 'final' THEN ch.starts_at + interval '1 day' END,
               CASE WHEN x.status = 'final' THEN md5('h' || ch.k) END,
               md5('d' || ch.k)::uuid
        FROM scale_chunk ch, generate_series(1, 2) AS v,
             LATERAL (SELECT CASE WHEN ch.status = 'finalized' AND v = 1 + (ch.k % 25 = 0)::integer
                                  THEN 'final' ELSE 'draft' END AS status) AS x
        WHERE ch.status IN ('discussed', 'finalized') AND (v = 1 OR ch.k % 25 = 0)
        """
    )


async def _insert_audit_events(conn: asyncpg.Connection, clock: datetime) -> None:
    """Twenty events per case over the days after its submission: its creation and placement, its
    recommendations, decision and signature where it got that far, and reads by its presenter, its
    meeting's participants and coordinators (one in fifty cases also has a refused read)."""
    await conn.execute(
        """
        INSERT INTO audit_event (occurred_at, actor_id, action, subject_type, subject_id, outcome)
        SELECT least($1::timestamptz, ch.created_at + make_interval(hours => 11 * i)),
               CASE WHEN i IN (1, 5) THEN NULL
                    WHEN i IN (0, 8, 12) THEN ch.presenter_id
                    WHEN i IN (2, 4, 6, 9) THEN ch.chair_id
                    WHEN i IN (3, 10) THEN ch.reviewer_id
                    WHEN x.refused THEN ch.outsider_id
                    ELSE ch.coordinator_id END,
               CASE WHEN i = 0 THEN 'create'
                    WHEN i = 1 AND ch.status <> 'submitted' THEN 'assign'
                    WHEN NOT x.decided OR i > 6 THEN 'read'
                    ELSE (ARRAY['create', 'assign', 'create', 'create', 'decide', 'build', 'sign'])[i + 1]
               END,
               CASE WHEN NOT x.decided OR i NOT IN (2, 3, 5, 6) THEN 'case'
                    WHEN i IN (2, 3) THEN 'recommendation' ELSE 'care_plan' END,
               CASE WHEN NOT x.decided OR i NOT IN (2, 3, 5, 6) THEN ch.id
                    WHEN i IN (2, 3) THEN md5('r' || ch.k || '-' || (i - 2))::uuid
                    ELSE md5('cp' || ch.k || '-1')::uuid END,
               CASE WHEN x.refused THEN 'denied' ELSE 'allowed' END
        FROM scale_chunk ch,
             LATERAL (SELECT ch.status IN ('discussed', 'finalized') AS decided) AS d,
             generate_series(0, $2 - 1) AS i,
             LATERAL (SELECT d.decided, i = 19 AND ch.k % 50 = 0 AS refused) AS x
        """,
        clock,
        AUDIT_PER_CASE,
    )
