-- Provisioning and inspection of agno's tables (agno 3.1.10 DDL, constraint and index names exact).
-- {{...}} placeholders are SQL identifiers from the configuration, quoted at start-up.

-- name: inspect_tables^
-- Which of agno's tables exist, and whether the sessions table still has the 2.x `runs` column.
SELECT to_regclass(:sessions_regclass) IS NOT NULL AS sessions_exists,
       to_regclass(:runs_regclass) IS NOT NULL AS runs_exists,
       EXISTS (
           SELECT 1 FROM information_schema.columns
           WHERE table_schema = :schema_name AND table_name = :sessions_name AND column_name = 'runs'
       ) AS has_legacy_runs,
       ARRAY(
           SELECT column_name::text FROM information_schema.columns
           WHERE table_schema = :schema_name AND table_name = :sessions_name
       ) AS session_columns;

-- name: relation_exists$
-- Whether a table or index exists (the `table` query parameter rule; the search index).
SELECT to_regclass(:regclass) IS NOT NULL;

-- name: provision_lock!
-- Serialises provisioning between replicas and workers.
SELECT pg_advisory_xact_lock(hashtext('agno-session:provision:' || :schema_name));

-- name: create_schema!
CREATE SCHEMA IF NOT EXISTS {{schema}};

-- name: create_sessions_table!
CREATE TABLE IF NOT EXISTS {{sessions}} (
    session_id character varying NOT NULL,
    session_type character varying NOT NULL,
    agent_id character varying,
    team_id character varying,
    workflow_id character varying,
    user_id character varying,
    session_data jsonb,
    agent_data jsonb,
    team_data jsonb,
    workflow_data jsonb,
    metadata jsonb,
    summary jsonb,
    created_at bigint NOT NULL,
    updated_at bigint,
    CONSTRAINT {{sessions_name}}_pkey PRIMARY KEY (session_id)
);

-- name: create_sessions_indexes!
CREATE INDEX IF NOT EXISTS idx_{{sessions_name}}_created_at ON {{sessions}} USING btree (created_at);
CREATE INDEX IF NOT EXISTS idx_{{sessions_name}}_session_type ON {{sessions}} USING btree (session_type);

-- name: create_runs_table!
CREATE TABLE IF NOT EXISTS {{runs}} (
    run_id character varying NOT NULL,
    session_id character varying NOT NULL,
    run_type character varying NOT NULL,
    agent_id character varying,
    team_id character varying,
    workflow_id character varying,
    user_id character varying,
    parent_run_id character varying,
    status character varying,
    run_index bigint,
    run_data jsonb NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint,
    CONSTRAINT {{runs_name}}_pkey PRIMARY KEY (run_id),
    CONSTRAINT {{runs_name}}_session_id_fkey FOREIGN KEY (session_id)
        REFERENCES {{sessions}} (session_id) ON DELETE CASCADE
);

-- name: create_runs_indexes!
CREATE INDEX IF NOT EXISTS idx_{{runs_name}}_agent_id ON {{runs}} USING btree (agent_id);
CREATE INDEX IF NOT EXISTS idx_{{runs_name}}_created_at ON {{runs}} USING btree (created_at);
CREATE INDEX IF NOT EXISTS idx_{{runs_name}}_run_type ON {{runs}} USING btree (run_type);
CREATE INDEX IF NOT EXISTS idx_{{runs_name}}_session_id ON {{runs}} USING btree (session_id);
CREATE INDEX IF NOT EXISTS idx_{{runs_name}}_session_id_run_index ON {{runs}} USING btree (session_id, run_index);
CREATE INDEX IF NOT EXISTS idx_{{runs_name}}_status ON {{runs}} USING btree (status);
CREATE INDEX IF NOT EXISTS idx_{{runs_name}}_team_id ON {{runs}} USING btree (team_id);
CREATE INDEX IF NOT EXISTS idx_{{runs_name}}_user_id ON {{runs}} USING btree (user_id);
CREATE INDEX IF NOT EXISTS idx_{{runs_name}}_workflow_id ON {{runs}} USING btree (workflow_id);

-- name: create_versions_table!
CREATE TABLE IF NOT EXISTS {{versions}} (
    table_name character varying NOT NULL,
    version character varying NOT NULL,
    created_at character varying NOT NULL,
    updated_at character varying,
    CONSTRAINT agno_schema_versions_pkey PRIMARY KEY (table_name)
);
CREATE INDEX IF NOT EXISTS idx_agno_schema_versions_created_at ON {{versions}} USING btree (created_at);

-- name: record_table_version!
-- agno records the schema version of every table it creates (a naive local ISO timestamp).
INSERT INTO {{versions}} (table_name, version, created_at, updated_at)
VALUES (:table_name, '3.0.0', :now_iso, :now_iso)
ON CONFLICT (table_name) DO NOTHING;

-- name: create_search_extension!
-- Trigram matching for the session_name search (a trusted extension: the database owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- name: create_search_index!
-- Not one of agno's indexes: it serves `GET /sessions?session_name=` (ILIKE '%…%' on the stored name)
-- without a full scan. Same expression as the list query's filter; agno ignores extra indexes.
CREATE INDEX IF NOT EXISTS idx_{{sessions_name}}_session_name_trgm ON {{sessions}}
    USING gin ((coalesce(session_data ->> 'session_name', '')) gin_trgm_ops);

-- name: analyze_sessions!
-- Right after the search index is built: statistics of its expression (the names) for search.py.
ANALYZE {{sessions}};

-- name: search_name_stats^
-- PostgreSQL's statistics of the search index expression: the most common names with their shares,
-- and the histogram's sample of the others (search.NameSample).
SELECT most_common_vals::text::text[] AS common_values,
       most_common_freqs AS common_freqs,
       histogram_bounds::text::text[] AS histogram_values,
       null_frac
FROM pg_stats
WHERE schemaname = :schema_name AND tablename = :index_name;

-- name: empty_sessions
-- A fragment standing in for {{sessions}} while the table does not exist: no rows, agno's columns.
(SELECT NULL::varchar AS session_id, NULL::varchar AS session_type, NULL::varchar AS agent_id,
        NULL::varchar AS team_id, NULL::varchar AS workflow_id, NULL::varchar AS user_id,
        NULL::jsonb AS session_data, NULL::jsonb AS agent_data, NULL::jsonb AS team_data,
        NULL::jsonb AS workflow_data, NULL::jsonb AS metadata, NULL::jsonb AS summary,
        NULL::bigint AS created_at, NULL::bigint AS updated_at WHERE false)

-- name: empty_runs
-- A fragment standing in for {{runs}} while the table does not exist.
(SELECT NULL::varchar AS run_id, NULL::varchar AS session_id, NULL::bigint AS run_index,
        NULL::jsonb AS run_data, NULL::bigint AS created_at WHERE false)
