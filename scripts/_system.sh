# Sourced by scripts/up, scripts/test and .ci/run: the Debian packages the project needs, installed when missing.
RUNTIME_APT=(python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
TEST_APT=(poppler-utils chromium golang-go golang-github-vmware-govmomi-dev curl)

# ensure_apt PKG…: install the missing ones (as root, with apt-get); otherwise say which are missing and return 1.
ensure_apt() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    return $?
  fi
  echo "missing Debian packages: ${missing[*]} (install them with: sudo apt-get install ${missing[*]})" >&2
  return 1
}
