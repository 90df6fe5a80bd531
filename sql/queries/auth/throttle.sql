-- name: get_sign_in_lock$
-- When the later of the account's and the address's locks ends, if either is locked now.
SELECT max(locked_until)
FROM sign_in_lock
WHERE locked_until > now()
  AND ((scope = 'account' AND key = :account) OR (scope = 'address' AND key = :address));

-- name: record_sign_in_failure$
-- Count one failed password check for the account and the address; lock whichever reached its
-- limit within the window (failures before the end of a previous lock's count do not count again),
-- from this failure on. Old failures of these keys are dropped on the way. The new lock's end, if any.
WITH recorded AS (
    INSERT INTO sign_in_failure (scope, key)
    SELECT scope, key
    FROM (VALUES ('account', :account::text), ('address', :address::text)) AS k (scope, key)
    WHERE key IS NOT NULL
    RETURNING scope, key, failed_at
), pruned AS (
    DELETE FROM sign_in_failure f
    USING recorded r
    WHERE f.scope = r.scope AND f.key = r.key AND f.failed_at < r.failed_at - make_interval(secs => :window_seconds::float8)
), counted AS (
    SELECT r.scope, r.key, r.failed_at,
           1 + (
               SELECT count(*)
               FROM sign_in_failure f
               WHERE f.scope = r.scope AND f.key = r.key
                 AND f.failed_at > r.failed_at - make_interval(secs => :window_seconds::float8)
                 AND f.failed_at > coalesce(
                     (SELECT l.locked_from FROM sign_in_lock l WHERE l.scope = r.scope AND l.key = r.key),
                     '-infinity')
           ) AS failures
    FROM recorded r
), locked AS (
    INSERT INTO sign_in_lock (scope, key, locked_from, locked_until)
    SELECT scope, key, failed_at, failed_at + make_interval(secs => :lock_seconds::float8)
    FROM counted
    WHERE failures >= CASE scope WHEN 'account' THEN :account_limit::int ELSE :address_limit::int END
    ON CONFLICT (scope, key) DO UPDATE
    SET locked_from = EXCLUDED.locked_from, locked_until = EXCLUDED.locked_until
    RETURNING locked_until
)
SELECT max(locked_until) FROM locked;

-- name: clear_account_failures!
-- A successful sign-in: the account's earlier failures no longer count.
DELETE FROM sign_in_failure WHERE scope = 'account' AND key = :account;

-- name: delete_old_sign_in_failures!
-- Housekeeping: failures and locks older than any window.
WITH failures AS (
    DELETE FROM sign_in_failure WHERE failed_at < now() - interval '1 day'
)
DELETE FROM sign_in_lock WHERE locked_until < now() - interval '1 day';
