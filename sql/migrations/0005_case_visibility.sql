-- Who may see a case, in one place for every query that reads cases: coordinators (sees_all),
-- its presenter, and the participants of its meeting.
CREATE FUNCTION case_visible_to(
    presenter_id uuid, meeting_id uuid, viewer_id uuid, sees_all boolean
) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT sees_all
        OR presenter_id = viewer_id
        OR EXISTS (SELECT 1 FROM meeting_participant mp
                   WHERE mp.meeting_id = case_visible_to.meeting_id AND mp.user_id = viewer_id)
$$;
