#!/bin/sh
# Entrypoint of the qlrf image. One image, several roles:
#   web               migrate, upsert the recurring jobs, then serve qlrf.wsgi with gunicorn (compose, single host)
#   serve             gunicorn only (Kubernetes: the migrate hook Job has already run `migrate`)
#   worker            the django-q2 task cluster (python manage.py qcluster)
#   migrate           migrate + setup_schedules, then exit (the Helm pre-install/pre-upgrade Job)
#   copy-static DIR   copy the static files collected at build time into DIR (a volume a front web server reads)
#   manage ARGS…      any management command, e.g. `manage createsuperuser`
#   anything else     executed as given (e.g. `sh`)
# Variables besides QLRF_*: PORT (8000), WEB_CONCURRENCY (gunicorn workers, 2), GUNICORN_TIMEOUT (60),
# STATIC_EXPORT_DIR (when set, `web` and `serve` first copy the static files there), GUNICORN_CMD_ARGS (gunicorn's own).
set -eu

APP_HOME="${APP_HOME:-/app}"
cd "$APP_HOME"

log() { echo "qlrf-entrypoint: $*" >&2; }

migrate() {
  log "applying migrations"
  python manage.py migrate --no-input
  log "upserting recurring jobs"
  python manage.py setup_schedules
}

copy_static() {
  dest="$1"
  src="${QLRF_VAR_DIR:-$APP_HOME/var}/staticfiles"
  [ -d "$src" ] || { log "no collected static files at $src"; exit 1; }
  mkdir -p "$dest"
  cp -R "$src/." "$dest/"
  log "static files copied to $dest"
}

serve() {
  if [ -n "${STATIC_EXPORT_DIR:-}" ]; then copy_static "$STATIC_EXPORT_DIR"; fi
  # No control socket: its default lives under $HOME, which is read-only in the container.
  # --config: gunicorn's own lines as JSON with the request id in the JSON log format (qlrf/gunicorn_conf.py).
  exec gunicorn qlrf.wsgi:application \
    --config python:qlrf.gunicorn_conf \
    --bind "0.0.0.0:${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-2}" \
    --timeout "${GUNICORN_TIMEOUT:-60}" \
    --graceful-timeout 30 \
    --access-logfile - \
    --no-control-socket
}

cmd="${1:-web}"
[ $# -gt 0 ] && shift
case "$cmd" in
  web) migrate; serve ;;
  serve) serve ;;
  worker) exec python manage.py qcluster ;;
  migrate) migrate ;;
  copy-static) copy_static "${1:?usage: copy-static DIR}" ;;
  manage) exec python manage.py "$@" ;;
  *) exec "$cmd" "$@" ;;
esac
