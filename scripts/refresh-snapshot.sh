#!/usr/bin/env bash
# Rebuilds src/database/migrations/.snapshot-tenantry.json from the entities after branches that each added
# migrations were merged (the snapshot is what `migration:create` diffs against). It applies every migration
# to a scratch database, then lets MikroORM write the snapshot with a blank migration it throws away.
set -euo pipefail
cd "$(dirname "$0")/.."
DB="tenantry_snapshot_$$"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/${DB}"
psql -h 127.0.0.1 -U postgres -qc "create database ${DB}"
trap 'psql -h 127.0.0.1 -U postgres -qc "drop database if exists ${DB} with (force)" >/dev/null' EXIT
npm run --silent migrate >/dev/null
rm -f src/database/migrations/.snapshot-tenantry.json
before=$(ls src/database/migrations)
npx mikro-orm migration:create --blank --name snapshot_refresh >/dev/null
for f in $(ls src/database/migrations); do
  if ! grep -qx "$f" <<<"$before"; then case "$f" in Migration*snapshot_refresh.ts) rm -f "src/database/migrations/$f";; esac; fi
done
npm run --silent migrate:check
echo "snapshot refreshed"
