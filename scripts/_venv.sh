# Sourced by scripts/up and scripts/test: make sure .venv exists with the given requirements file installed.
# Re-installs only when the requirements changed (a stamp holds their checksum).
# pip, without the machine's harmless "find-links location is ignored" warnings; its exit status is kept.
quiet_pip() {
  .venv/bin/python -m pip "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
}

ensure_venv() {
  local requirements="$1"
  if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
      echo "installing python3-venv (Debian package)…"
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    else
      echo "error: Python's venv module is missing; install it with: sudo apt-get install python3-venv" >&2
      exit 1
    fi
  fi
  [ -x .venv/bin/python ] || python3 -m venv .venv
  local stamp=".venv/.requirements-$(basename "$requirements" .txt)"
  local sum
  sum=$(cat requirements/*.txt pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
    echo "installing Python dependencies from $requirements…"
    quiet_pip install -q --upgrade pip
    quiet_pip install -q -r "$requirements"
    quiet_pip install -q --no-deps -e .
    echo "$sum" > "$stamp"
  fi
}
