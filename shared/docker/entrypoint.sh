#!/usr/bin/env bash
# Start an app container (APP names the app). It waits for PostgreSQL and Redis, applies the
# database migrations when this is the blog and RUN_MIGRATIONS=true, then runs
# Hypercorn. Arguments, if any, replace Hypercorn: the EventProcessor service
# passes "rose-ash event-processor".
#
# Each app's own entrypoint.sh sets APP and runs this script.
set -euo pipefail

APP=${APP:?set APP to the app this container runs}
# Only the blog container applies migrations. `rose-ash db upgrade` holds a
# PostgreSQL advisory lock, so several blog replicas starting at once are safe.
MIGRATING_APP=blog

log() {
    printf '%s entrypoint: %s\n' "$APP" "$*" >&2
}

bind=${HYPERCORN_BIND:-0.0.0.0:8000}
workers=${HYPERCORN_WORKERS:-2}
if [[ ! $workers =~ ^[1-9][0-9]*$ ]]; then
    log "HYPERCORN_WORKERS must be a positive integer, not '$workers'"
    exit 64
fi

db_wait_timeout=${DB_WAIT_TIMEOUT:-60}
log "waiting up to ${db_wait_timeout}s for PostgreSQL and Redis"
if ! rose-ash db wait --timeout "$db_wait_timeout"; then
    log "PostgreSQL or Redis did not become reachable within ${db_wait_timeout}s (DB_WAIT_TIMEOUT), so the container exits"
    exit 1
fi

case ${RUN_MIGRATIONS:-false} in
    true)
        if [[ $APP == "$MIGRATING_APP" ]]; then
            log "RUN_MIGRATIONS=true: running rose-ash db upgrade"
            if ! rose-ash db upgrade; then
                log "rose-ash db upgrade failed, so the container exits without starting the app"
                exit 1
            fi
        else
            log "RUN_MIGRATIONS=true ignored: only the $MIGRATING_APP container runs migrations"
        fi
        ;;
    false | "") ;;
    *)
        log "RUN_MIGRATIONS='${RUN_MIGRATIONS}' is not true or false, so no migrations run"
        ;;
esac

if (($# > 0)); then
    log "starting: $*"
    exec "$@"
fi

log "starting Hypercorn on $bind with $workers workers"
exec hypercorn --bind "$bind" --workers "$workers" \
    --access-logfile - --error-logfile - \
    "$APP.app:create_app()"
