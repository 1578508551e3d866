-- Sessions: reads and writes of agno's sessions table.
-- {{sessions}} / {{runs}} are the configured tables; {{legacy_runs}} is the 2.x `runs` column when the
-- table still has it, else NULL; {{order_by}} is a sort_asc/sort_desc fragment (store.order_by_clause).
-- Optional filters use `(:x::text IS NULL OR ...)`: psycopg2 binds values client-side, so the
-- planner sees constants and folds the unused branches away.

-- name: get_session^
-- One session with its runs (agno's read order) in a single round trip, and the committed state it
-- was read under (`snapshot_identity`). {{lock}} is empty, or `FOR UPDATE OF s` for a read-modify-write (PATCH).
-- `json_agg`, not `jsonb_agg`: the same text, without rebuilding every run as one large jsonb value
-- (a third of the statement's time on production-shaped runs, bench/README.md).
SELECT s.session_id, s.session_type, s.agent_id, s.team_id, s.workflow_id, s.user_id,
       s.session_data, s.agent_data, s.team_data, s.workflow_data, s.metadata, s.summary,
       s.created_at, s.updated_at,
       {{legacy_runs}} AS legacy_runs,
       (SELECT coalesce(json_agg(r.run_data ORDER BY r.run_index, r.created_at, r.run_id), '[]'::json)
          FROM {{runs}} r WHERE r.session_id = s.session_id) AS runs,
       {{snapshot_identity}} AS snapshot
FROM {{sessions}} s
WHERE s.session_id = :session_id
  AND (:user_id::text IS NULL OR s.user_id = :user_id)
{{lock}};

-- name: search_planner_hint
-- A fragment put before list_sessions: the planner underrates the trigram index on small tables and
-- scans them twice (count and page) instead. SET LOCAL ends with the statement string's implicit
-- transaction, so it never leaks to the session.
SET LOCAL enable_seqscan = off;

-- name: list_sessions
-- One page of sessions plus the filtered total (NULL page columns when the page is past the end).
-- `matching` is inlined (NOT MATERIALIZED) into both uses, so the page keeps AgentOS's plan shape
-- (filter, ORDER BY, LIMIT/OFFSET: ties come back alike) and the count can use an index-only scan.
-- The count is skipped (total_count NULL) when the snapshot (`snapshot_identity`) equals
-- :known_snapshot, the one under which the caller last counted these filters: nothing was committed
-- since (service/counts.py).
-- A name search looks up :index_pattern (its rare words, service/search.py) in the trigram index and
-- filters the candidates by the full :name_pattern; `|| ''` keeps that filter out of the index lookup.
-- {{planner_hint}} is empty or, for a name search the trigram index serves, `search_planner_hint`.
-- :statement_timeout is the statement timeout of this list (expensive lists, name searches and pages
-- over 100 rows, have their own, smaller one: AGNO_EXPENSIVE_TIMEOUT), local to the statement
-- string's implicit transaction like the hint.
SELECT set_config('statement_timeout', :statement_timeout, true);
{{planner_hint}}
WITH matching AS NOT MATERIALIZED (
    SELECT s.session_id, s.session_type, s.agent_id, s.team_id, s.workflow_id, s.user_id,
           s.session_data, s.agent_data, s.team_data, s.workflow_data, s.metadata, s.summary,
           s.created_at, s.updated_at,
           {{legacy_runs}} AS legacy_runs
    FROM {{sessions}} s
    WHERE (:user_id::text IS NULL OR s.user_id = :user_id)
      AND (:component_id::text IS NULL OR CASE :session_type::text
              WHEN 'agent' THEN s.agent_id = :component_id
              WHEN 'team' THEN s.team_id = :component_id
              WHEN 'workflow' THEN s.workflow_id = :component_id
              ELSE (s.agent_id = :component_id OR s.team_id = :component_id
                    OR s.workflow_id = :component_id) END)
      AND (:name_pattern::text IS NULL
           OR (coalesce(s.session_data ->> 'session_name', '') ILIKE :index_pattern
               AND (coalesce(s.session_data ->> 'session_name', '') || '') ILIKE :name_pattern))
      AND (:session_type::text IS NULL OR s.session_type = :session_type)
)
SELECT c.snapshot, c.total_count, p.*
FROM (
    SELECT i.snapshot,
           CASE WHEN i.snapshot = :known_snapshot::text THEN NULL
                ELSE (SELECT count(*) FROM matching) END AS total_count
    FROM (SELECT {{snapshot_identity}} AS snapshot) i
) c
LEFT JOIN LATERAL (
    SELECT * FROM matching s {{order_by}} LIMIT :limit OFFSET :offset
) p ON true;

-- name: runs_for_naming
-- What session-name derivation needs of the runs of the listed sessions that have no stored name:
-- whether a run is a member run, its input, and its first user message with content.
SELECT r.session_id,
       jsonb_build_object(
           'run_id', r.run_data -> 'run_id',
           'agent_id', r.run_data -> 'agent_id',
           'input', r.run_data -> 'input',
           'messages', coalesce((
               SELECT jsonb_agg(m.value ORDER BY m.ordinality)
               FROM jsonb_array_elements(
                        CASE WHEN jsonb_typeof(r.run_data -> 'messages') = 'array'
                             THEN r.run_data -> 'messages' ELSE '[]'::jsonb END
                    ) WITH ORDINALITY m
               WHERE m.value ->> 'role' = 'user'
           ), '[]'::jsonb)
       ) AS run_data
FROM {{runs}} r
WHERE r.session_id = ANY(:session_ids)
ORDER BY r.run_index ASC, r.created_at ASC;

-- name: insert_agent_session<!
-- agno names these columns for an agent session; None JSON values are stored as JSON null.
INSERT INTO {{sessions}} (session_id, session_type, agent_id, user_id, session_data, agent_data,
                          metadata, summary, created_at, updated_at)
VALUES (:session_id, 'agent', :component_id, :user_id, :session_data::jsonb, :component_data::jsonb,
        :metadata::jsonb, :summary::jsonb, :now, :now)
ON CONFLICT (session_id) DO NOTHING
RETURNING session_id, session_type, agent_id, team_id, workflow_id, user_id, session_data, agent_data,
          team_data, workflow_data, metadata, summary, created_at, updated_at;

-- name: insert_team_session<!
INSERT INTO {{sessions}} (session_id, session_type, team_id, user_id, session_data, team_data,
                          metadata, summary, created_at, updated_at)
VALUES (:session_id, 'team', :component_id, :user_id, :session_data::jsonb, :component_data::jsonb,
        :metadata::jsonb, :summary::jsonb, :now, :now)
ON CONFLICT (session_id) DO NOTHING
RETURNING session_id, session_type, agent_id, team_id, workflow_id, user_id, session_data, agent_data,
          team_data, workflow_data, metadata, summary, created_at, updated_at;

-- name: insert_workflow_session<!
INSERT INTO {{sessions}} (session_id, session_type, workflow_id, user_id, session_data, workflow_data,
                          metadata, summary, created_at, updated_at)
VALUES (:session_id, 'workflow', :component_id, :user_id, :session_data::jsonb, :component_data::jsonb,
        :metadata::jsonb, :summary::jsonb, :now, :now)
ON CONFLICT (session_id) DO NOTHING
RETURNING session_id, session_type, agent_id, team_id, workflow_id, user_id, session_data, agent_data,
          team_data, workflow_data, metadata, summary, created_at, updated_at;

-- name: update_agent_session<!
-- agno's upsert of an agent session: these columns are rewritten and updated_at is bumped.
UPDATE {{sessions}} SET agent_id = :component_id, user_id = :user_id, session_data = :session_data::jsonb,
       agent_data = :component_data::jsonb, metadata = :metadata::jsonb, summary = :summary::jsonb,
       updated_at = :now
WHERE session_id = :session_id
RETURNING session_id, session_type, agent_id, team_id, workflow_id, user_id, session_data, agent_data,
          team_data, workflow_data, metadata, summary, created_at, updated_at;

-- name: update_team_session<!
UPDATE {{sessions}} SET team_id = :component_id, user_id = :user_id, session_data = :session_data::jsonb,
       team_data = :component_data::jsonb, metadata = :metadata::jsonb, summary = :summary::jsonb,
       updated_at = :now
WHERE session_id = :session_id
RETURNING session_id, session_type, agent_id, team_id, workflow_id, user_id, session_data, agent_data,
          team_data, workflow_data, metadata, summary, created_at, updated_at;

-- name: update_workflow_session<!
UPDATE {{sessions}} SET workflow_id = :component_id, user_id = :user_id,
       session_data = :session_data::jsonb, workflow_data = :component_data::jsonb,
       metadata = :metadata::jsonb, summary = :summary::jsonb, updated_at = :now
WHERE session_id = :session_id
RETURNING session_id, session_type, agent_id, team_id, workflow_id, user_id, session_data, agent_data,
          team_data, workflow_data, metadata, summary, created_at, updated_at;

-- name: rename_session^
-- Sets session_data.session_name without touching updated_at. Unlike AgentOS, a session_data that is
-- SQL NULL or JSON null (or not an object) is treated as {} so the rename is never lost or a 500.
UPDATE {{sessions}} s
SET session_data = jsonb_set(
        CASE WHEN jsonb_typeof(s.session_data) = 'object' THEN s.session_data ELSE '{}'::jsonb END,
        '{session_name}', to_jsonb(:session_name::text))
WHERE s.session_id = :session_id
  AND (:session_type::text IS NULL OR s.session_type = :session_type)
  AND (:user_id::text IS NULL OR s.user_id = :user_id)
RETURNING s.session_id, s.session_type, s.agent_id, s.team_id, s.workflow_id, s.user_id,
          s.session_data, s.agent_data, s.team_data, s.workflow_data, s.metadata, s.summary,
          s.created_at, s.updated_at,
          {{legacy_runs}} AS legacy_runs,
          (SELECT coalesce(jsonb_agg(r.run_data ORDER BY r.run_index, r.created_at, r.run_id), '[]'::jsonb)
             FROM {{runs}} r WHERE r.session_id = s.session_id) AS runs;

-- name: delete_session!
-- One statement, so a session and its runs go together (also where the FK cascade is missing).
WITH deleted AS (
    DELETE FROM {{sessions}} s
    WHERE s.session_id = :session_id AND (:user_id::text IS NULL OR s.user_id = :user_id)
    RETURNING s.session_id
)
DELETE FROM {{runs}} r WHERE r.session_id IN (SELECT session_id FROM deleted);

-- name: delete_sessions!
-- Bulk delete in one statement (one transaction). Only runs of sessions actually deleted go.
WITH deleted AS (
    DELETE FROM {{sessions}} s
    WHERE s.session_id = ANY(:session_ids) AND (:user_id::text IS NULL OR s.user_id = :user_id)
    RETURNING s.session_id
)
DELETE FROM {{runs}} r WHERE r.session_id IN (SELECT session_id FROM deleted);

-- name: delete_session_row!
-- delete_session on a database without a runs table (agno 2.x layout): the row only.
DELETE FROM {{sessions}} s
WHERE s.session_id = :session_id AND (:user_id::text IS NULL OR s.user_id = :user_id);

-- name: delete_session_rows!
-- delete_sessions on a database without a runs table (agno 2.x layout).
DELETE FROM {{sessions}} s
WHERE s.session_id = ANY(:session_ids) AND (:user_id::text IS NULL OR s.user_id = :user_id);

-- name: set_legacy_runs!
-- Import extension on a database without a runs table (agno 2.x layout): the runs go where agno 2.x
-- kept them, the sessions' `runs` column.
UPDATE {{sessions}} SET runs = :runs::jsonb WHERE session_id = :session_id;

-- name: insert_runs!
-- Import extension of POST /sessions: store a list of runs as rows of the runs table, in order.
INSERT INTO {{runs}} (run_id, session_id, run_type, agent_id, team_id, workflow_id, user_id,
                      parent_run_id, status, run_index, run_data, created_at, updated_at)
SELECT x.run_id, :session_id, x.run_type, x.agent_id, x.team_id, x.workflow_id, x.user_id,
       x.parent_run_id, x.status, x.run_index, x.run_data, x.created_at, x.created_at
FROM jsonb_to_recordset(:runs::jsonb) AS x(run_id text, run_type text, agent_id text, team_id text,
                                           workflow_id text, user_id text, parent_run_id text,
                                           status text, run_index bigint, run_data jsonb,
                                           created_at bigint);

-- name: sort_asc
-- {{order_by}} of list_sessions: {{sort_key}} is one of the sort_key_* fragments (store.order_by_clause).
ORDER BY {{sort_key}} ASC

-- name: sort_desc
-- As sort_asc, descending.
ORDER BY {{sort_key}} DESC

-- name: sort_key_column
-- A column of the sessions table; {{column}} comes from the whitelist store.SORT_COLUMNS only.
s.{{column}}

-- name: sort_key_updated_at
-- agno sorts by updated_at, falling back to created_at.
coalesce(s.updated_at, s.created_at)

-- name: sort_key_legacy_runs
-- The 2.x `runs` column (jsonb order; SQL NULL last ascending, first descending).
s.legacy_runs

-- name: lock_session_row
-- {{lock}} of get_session for a read-modify-write (PATCH): the row stays locked until commit.
FOR UPDATE OF s

-- name: legacy_runs_column
-- {{legacy_runs}} while the sessions table still has agno 2.x's `runs` column.
s.runs

-- name: no_legacy_runs
-- {{legacy_runs}} otherwise.
NULL::jsonb

-- name: count_sessions_by_ids$
-- How many of the listed sessions (within the user's reach) are still stored: a bulk delete whose
-- COMMIT went unanswered is read back with it (service/db.py, Database.write).
SELECT count(*) FROM {{sessions}} s
WHERE s.session_id = ANY(:session_ids) AND (:user_id::text IS NULL OR s.user_id = :user_id);

-- name: snapshot_identity
-- A fragment: what reused answers and list totals are keyed by (service/answers.py, service/counts.py):
-- the committed state every statement would see now, and the server that sees it (a restart or a
-- failover to another host changes it too).
pg_current_snapshot()::text || ' ' || pg_postmaster_start_time()::text || ' '
       || coalesce(host(inet_server_addr()), 'local') || ':' || coalesce(inet_server_port(), 0)

-- name: answer_snapshot$
-- `snapshot_identity` on its own: read before a reusable answer is looked up.
SELECT {{snapshot_identity}};
