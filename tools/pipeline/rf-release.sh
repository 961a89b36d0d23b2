#!/usr/bin/env bash
# The reference pipeline step (docs/pipelines.md): register a release in Resilience Fabric from its image contract,
# attach its artifacts' evidence (SBOM, SARIF), publish it and ask the deploy gate — over the REST API with a token,
# exactly as any customer's pipeline does.
#
#   QLRF_URL=https://rf.example.org QLRF_TOKEN=qlrf_… \
#     tools/pipeline/rf-release.sh CONTRACT VERSION [--sbom FILE] [--sarif FILE] [--environment SLUG] [--no-publish]
#
# Exit status: 0 when the gate allows the release into the environment (or no environment was asked), 1 when it
# denies it (every reason printed), 2 on a usage, transport or API error (one line naming what failed).
set -euo pipefail

die() { echo "rf-release: $*" >&2; exit 2; }
[ $# -ge 2 ] || die "usage: rf-release.sh CONTRACT VERSION [--sbom FILE] [--sarif FILE] [--environment SLUG] [--no-publish]"
contract=$1 version=$2; shift 2
sbom="" sarif="" environment="" publish=1
while [ $# -gt 0 ]; do
  case "$1" in
    --sbom) sbom=${2:?}; shift 2 ;;
    --sarif) sarif=${2:?}; shift 2 ;;
    --environment) environment=${2:?}; shift 2 ;;
    --no-publish) publish=0; shift ;;
    *) die "unknown option $1" ;;
  esac
done
: "${QLRF_URL:?set QLRF_URL to the Resilience Fabric address}"
: "${QLRF_TOKEN:?set QLRF_TOKEN to an API token of the organisation (engineer role)}"
[ -r "$contract" ] || die "cannot read the contract $contract"
for file in "$sbom" "$sarif"; do [ -z "$file" ] || [ -r "$file" ] || die "cannot read $file"; done
api="${QLRF_URL%/}/api/v1"
body=$(mktemp) && trap 'rm -f "$body"' EXIT

# call METHOD PATH [curl args…]: the JSON answer in $body; a non-2xx answer stops the script with its code/message.
call() {
  local method=$1 path=$2 status; shift 2
  status=$(curl -sS -o "$body" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $QLRF_TOKEN" \
    -H "Accept: application/json" "$@" "$api$path") || die "$method $path: the service did not answer"
  case "$status" in
    2??) ;;
    *) die "$method $path: HTTP $status $(python3 -c 'import json,sys
try:
    d = json.load(open(sys.argv[1]))
    print(d.get("code", ""), "-", d.get("message") or d.get("detail") or "")
except Exception:
    print("(not a JSON answer)")' "$body")" ;;
  esac
}
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$body" "$1"; }

registration=$(python3 -c 'import json,sys; print(json.dumps({"contract": open(sys.argv[1]).read(), "version": sys.argv[2]}))' \
  "$contract" "$version")
call POST /images -H "Content-Type: application/json" --data-binary "$registration"
id=$(field id)
image="$(field family)@$(field version)"
echo "registered $image (id $id)"
if [ -n "$sbom" ]; then call POST "/images/$id/sbom" -F "file=@$sbom"; echo "SBOM uploaded"; fi
if [ -n "$sarif" ]; then call POST "/images/$id/scans" -F "file=@$sarif"; echo "scan results uploaded"; fi
if [ "$publish" = 1 ]; then call POST "/images/$id/publish"; echo "published $image"; fi
[ -n "$environment" ] || exit 0

gate=$(python3 -c 'import json,sys; print(json.dumps({"image": sys.argv[1], "environment": sys.argv[2]}))' "$image" "$environment")
call POST /gate/check -H "Content-Type: application/json" --data-binary "$gate"
python3 - "$body" <<'PY'
import json
import sys

decision = json.load(open(sys.argv[1]))
verdict = "allowed" if decision["allowed"] else "denied"
print(f"gate: {decision['image']} → {decision['environment']}: {verdict} (decision {decision['decision']})")
for reason in decision.get("reasons", []):
    print(f"  - {reason if isinstance(reason, str) else json.dumps(reason, sort_keys=True)}")
sys.exit(0 if decision["allowed"] else 1)
PY
