-- Service-account tokens (`agno_pat_…`): AgentOS's `agno_service_accounts` table, read as agno writes it.

-- name: service_account_by_token_hash^
-- The account a token belongs to (only the SHA-256 of a token is ever stored).
SELECT name, scopes, expires_at, revoked_at
FROM {{service_accounts}}
WHERE token_hash = :token_hash;

-- name: touch_service_account!
-- Records a verified use, as agno does (at most once a minute per account and process).
UPDATE {{service_accounts}}
SET last_used_at = :now
WHERE token_hash = :token_hash;
