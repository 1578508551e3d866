-- Health: the readiness ping.

-- name: ping$
SELECT 1;
