-- yizhan (一站): one database per service. A service never reads another
-- service's database. Run by the postgres image on first start, as the
-- POSTGRES_USER (yizhan), from /docker-entrypoint-initdb.d/.
-- Idempotent: a database that already exists is skipped (psql \gexec).

SELECT format('CREATE DATABASE %I OWNER yizhan ENCODING ''UTF8'' TEMPLATE template0', name)
FROM (VALUES ('licensing'), ('construction'), ('document'), ('notification'), ('enterprise')) AS services(name)
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = services.name)
\gexec

-- Nobody but the owner connects to a service database by default.
REVOKE CONNECT ON DATABASE licensing FROM PUBLIC;
REVOKE CONNECT ON DATABASE construction FROM PUBLIC;
REVOKE CONNECT ON DATABASE document FROM PUBLIC;
REVOKE CONNECT ON DATABASE notification FROM PUBLIC;
REVOKE CONNECT ON DATABASE enterprise FROM PUBLIC;
