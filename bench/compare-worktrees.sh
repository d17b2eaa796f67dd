#!/bin/bash
# Side by side, one run: Tenantry of two checkouts on two copies of the same seeded data set, alternating
# (A, B, A, B …) so that load on the machine hits both alike. Each `npm run bench` also measures the bare
# baseline; compare the Tenantry columns of A and B (and the ratios, which divide out the baseline).
#
#   bench/compare-worktrees.sh <dirA> <dbA> <dirB> <dbB> [rounds=2] [scenarios=R1,R2,W1]
#
# Each directory is a built checkout (`npm run build`; its own migrations are applied to its database by
# `npm run bench`). Make the copy with `createdb -T <seeded db> <copy>` after `npm run bench:seed`.
set -euo pipefail
dirA=$1 dbA=$2 dirB=$3 dbB=$4 rounds=${5:-2} only=${6:-R1,R2,W1}
for round in $(seq 1 "$rounds"); do
  for side in A B; do
    if [ "$side" = A ]; then dir=$dirA db=$dbA; else dir=$dirB db=$dbB; fi
    echo "=== round $round side $side ($dir on $db) $(date -u +%T)"
    (cd "$dir" && DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" npm run bench -- --only "$only" \
      --rounds 1 --duration 10 --warmup 3 --no-build --no-rls)
  done
done
