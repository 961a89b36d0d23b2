"""The commands of ``rf``: each parses its arguments, makes API calls through ``Api`` and prints with ``output``.

Remote and local mode run exactly these functions; only the transport under ``Api`` differs (ADR 024).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from . import output
from .errors import ClientError, UsageError
from .transport import Api, api_path

FINAL_JOB = ("succeeded", "failed")
FINAL_SCAN = ("succeeded", "partial", "failed")
ENV_COLUMNS = [("slug", "slug"), ("name", "name"), ("tier", "tier"), ("signature policy", "signature_policy")]
SITE_COLUMNS = [("slug", "slug"), ("name", "name"), ("kind", "kind"), ("platform", "platform"), ("region", "region")]
CONNECTOR_COLUMNS = [("name", "name"), ("platform", "platform"), ("enabled", "enabled"),
                     ("every (min)", "schedule_minutes"), ("project", "project")]  # fmt: skip
ASSET_COLUMNS = [("instance", "instance_id"), ("name", "name"), ("platform", "platform"), ("site", "site"),
                 ("environment", "environment"), ("image", "image_version"), ("state", "state")]  # fmt: skip


# ---- helpers -----------------------------------------------------------------------------------------------------
def read_file(name: str) -> bytes:
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror}") from None


def version_get(api: Api, ref: str) -> dict:
    """The version ``FAMILY@VERSION`` among the caller's images; another tenant's is simply not found (exit 1)."""
    family, sep, version = ref.rpartition("@")
    if not sep or not family or not version:
        raise UsageError(f"{ref!r}: give the image as FAMILY@VERSION")
    rows = api.list("/images", api.org_params(family=family, version=version))
    if len(rows) != 1:
        raise ClientError(f"no image {ref!r}" + (" (several organizations: use --org)" if rows else ""))
    return rows[0]


def by_name(api: Api, path: str, name: str, what: str) -> dict:
    rows = [row for row in api.list(path, api.org_params()) if name in (row.get("name"), str(row.get("id")))]
    if len(rows) != 1:
        raise ClientError(f"no {what} {name!r}" + (" (several organizations: use --org)" if rows else ""))
    return rows[0]


def artifact(text: str) -> dict:
    """``PLATFORM:IMAGE_REF[@REGION[:ACCOUNT]]`` → the API's artifact object."""
    platform, sep, rest = text.partition(":")
    if not sep or not rest:
        raise UsageError(f"--artifact {text!r}: give PLATFORM:IMAGE_REF[@REGION[:ACCOUNT]]")
    ref, _, where = rest.rpartition("@") if "@" in rest else (rest, "", "")
    region, _, account = where.partition(":")
    return {"platform": platform, "image_ref": ref, "region": region, "account": account}


def upload(api: Api, out: output.Printer, version: dict, endpoint: str, name: str, *, async_: bool) -> tuple:
    """POST a document; a 202 upload job is polled with progress. (reply data, upload job or None)."""
    headers = {"Content-Type": "application/octet-stream"}
    headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(Path(name).name)}"
    if async_:
        headers["Prefer"] = "respond-async"
    reply = api.post(f"/images/{version['id']}/{endpoint}", body=read_file(name), headers=headers)
    if reply.status != 202:
        return reply.data, None
    out.progress(f"{name}: parsed by upload job {reply.data['id']}")
    job = api.wait(api_path(reply.headers.get("Location") or reply.data["url"]),
                   done=lambda row: row["status"] in FINAL_JOB, label=f"upload job {reply.data['id']}")  # fmt: skip
    if job["status"] == "failed":
        where = f" (at {job['error_path']})" if job.get("error_path") else ""
        raise ClientError(f"{name}: refused by upload job {job['id']}: {job['error_code']}: {job['error_detail']}"
                          f"{where}")  # fmt: skip
    return None, job


# ---- environments and sites --------------------------------------------------------------------------------------
def env_list(api, out, args):
    rows = api.list("/environments", api.org_params())
    out.json(rows) if args.json else out.table(rows, ENV_COLUMNS)


def env_create(api, out, args):
    body = {"organization": api.organization, "slug": args.slug, "name": args.name or args.slug, "tier": args.tier}
    if args.signature_policy:
        body["signature_policy"] = args.signature_policy
    row = api.post("/environments", {k: v for k, v in body.items() if v is not None}).data
    out.json(row) if args.json else out.line(f"created environment {row['slug']} ({row['tier']}, "
                                             f"signature policy {row['signature_policy']})")  # fmt: skip


def site_list(api, out, args):
    rows = api.list("/sites", api.org_params(platform=args.platform))
    out.json(rows) if args.json else out.table(rows, SITE_COLUMNS)


def site_create(api, out, args):
    body = {"organization": api.organization, "slug": args.slug, "name": args.name or args.slug, "kind": args.kind,
            "platform": args.platform or "", "region": args.region or ""}  # fmt: skip
    row = api.post("/sites", {k: v for k, v in body.items() if v is not None}).data
    where = " ".join(x for x in (row.get("platform"), row.get("region")) if x) or "-"
    out.json(row) if args.json else out.line(f"created site {row['slug']} ({row['kind']}, {where})")


# ---- images ------------------------------------------------------------------------------------------------------
def image_register(api, out, args):
    body = {"organization": api.organization, "contract": read_file(args.contract).decode("utf-8", "replace"),
            "version": args.version, "artifacts": [artifact(a) for a in args.artifact or []]}  # fmt: skip
    if args.parent:
        body["parent"] = args.parent
    reply = api.post("/images", {k: v for k, v in body.items() if v is not None})
    state = "registered" if reply.status == 201 else "already registered"
    out.json(reply.data) if args.json else out.line(f"{state} {output.version_line(reply.data)}")


def _lifecycle(verb: str, done: str):
    def run(api, out, args):
        version = version_get(api, args.image)
        row = api.post(f"/images/{version['id']}/{verb}").data
        out.json(row) if args.json else out.line(f"{done} {output.version_line(row)}")

    return run


image_publish = _lifecycle("publish", "published")
image_deprecate = _lifecycle("deprecate", "deprecated")


def image_revoke(api, out, args):
    version = version_get(api, args.image)
    body = {"reason": args.reason, **({"effective_at": args.effective_at} if args.effective_at else {})}
    rows = api.post(f"/images/{version['id']}/revoke", body).data
    if args.json:
        return out.json(rows)
    for row in rows:
        out.line(f"revoked {output.version_line(row)}" + (f" from {output.day(row['revoked_at'])}"))


def image_promote(api, out, args):
    version = version_get(api, args.image)
    body = {"environment": args.env, **({"grace_days": args.grace_days} if args.grace_days is not None else {})}
    row = api.post(f"/images/{version['id']}/promote", body).data
    if args.json:
        return out.json(row)
    grace = f", grace until {output.day(row['grace_until'])}" if row.get("grace_until") else ""
    out.line(f"promoted {row['to_version']} to {args.env} (from {row.get('from_version') or 'nothing'}{grace})")


def image_list(api, out, args):
    rows = api.list("/images", api.org_params(family=args.family, status=args.status))
    columns = [("image", "family"), ("version", "version"), ("status", "status"), ("released", "released_at")]
    out.json(rows) if args.json else out.table(rows, columns)


def image_show(api, out, args):
    version = version_get(api, args.image)
    detail = api.get(f"/images/{version['id']}")
    badges = api.get(f"/images/{version['id']}/badges")
    signatures = api.list("/signature-verifications", api.org_params(version=version["id"]))
    try:
        sbom = api.get(f"/images/{version['id']}/sbom")
    except ClientError as exc:
        if getattr(exc, "status", None) != 404:
            raise
        sbom = None
    if args.json:
        summary = None if sbom is None else {k: sbom[k] for k in ("format", "spec_version", "encoding",
                                                                     "package_count", "upload")}  # fmt: skip
        return out.json({**detail, "badges": badges, "signatures": signatures, "sbom": summary})
    for text in output.show_lines(detail, badges, signatures, sbom):
        out.line(text)


# ---- connectors --------------------------------------------------------------------------------------------------
def connector_list(api, out, args):
    rows = api.list("/connectors", api.org_params(platform=args.platform))
    out.json(rows) if args.json else out.table(rows, CONNECTOR_COLUMNS)


def connector_create(api, out, args):
    config = args.config
    if config and config.startswith("@"):
        config = read_file(config[1:]).decode("utf-8", "replace")
    try:
        config = json.loads(config) if config else {}
    except ValueError as exc:
        raise UsageError(f"--config: not JSON: {exc}") from None
    body = {"organization": api.organization, "name": args.name, "platform": args.platform, "config": config,
            "credential_ref": args.credential_ref or "", "project": args.project,
            "schedule_minutes": args.schedule_minutes}  # fmt: skip
    row = api.post("/connectors", {k: v for k, v in body.items() if v is not None}).data
    out.json(row) if args.json else out.line(f"created connector {row['name']} ({row['platform']}, id {row['id']})")


def connector_test(api, out, args):
    connector = by_name(api, "/connectors", args.name, "connector")
    result = api.post(f"/connectors/{connector['id']}/test").data
    out.json(result) if args.json else out.line(f"{connector['name']}: {'ok' if result['ok'] else 'failed'}: "
                                                f"{result['detail']}")  # fmt: skip
    if not result["ok"]:
        raise ClientError(f"connector {connector['name']}: connection test failed", exit_code=1)


def connector_scan(api, out, args):
    connector = by_name(api, "/connectors", args.name, "connector")
    run = api.post(f"/connectors/{connector['id']}/scan").data
    if not args.no_wait:
        run = api.wait(f"/scan-runs/{run['id']}", done=lambda row: row["status"] in FINAL_SCAN,
                       label=f"scan {run['id']} of {connector['name']}")  # fmt: skip
    if args.json:
        out.json(run)
    else:
        out.line(f"scan {run['id']} of {connector['name']}: {run['status']} — {run.get('discovered') or 0} "
                 f"discovered, {run.get('new') or 0} new, {run.get('updated') or 0} updated, "
                 f"{run.get('removed') or 0} removed")  # fmt: skip
    if run["status"] == "failed":
        raise ClientError(f"scan {run['id']} failed: {run.get('error') or 'see the scan run'}")


# ---- supply chain ------------------------------------------------------------------------------------------------
def sbom_import(api, out, args):
    version = version_get(api, args.image)
    sbom, job = upload(api, out, version, "sbom", args.file, async_=args.async_)
    if job is not None:
        sbom = api.get(f"/images/{version['id']}/sbom")
    if args.json:
        return out.json(sbom)
    out.line(f"{args.file}: imported {sbom['format']} {sbom['spec_version']} ({sbom['encoding']}) with "
             f"{sbom['package_count']} packages for {args.image} (sha256 {sbom['upload']['sha256']})")  # fmt: skip


def sbom_diff(api, out, args):
    version, against = version_get(api, args.image), version_get(api, args.against)
    diff = api.get(f"/images/{version['id']}/sbom/diff", {"against": against["id"]})
    if args.json:
        return out.json(diff)
    for text in output.diff_lines(diff):
        out.line(text)


def scan_results_upload(api, out, args):
    version = version_get(api, args.image)
    scan, job = upload(api, out, version, "scans", args.file, async_=args.async_)
    if job is not None:
        out.json(job) if args.json else out.line(f"{args.file}: imported {job['kind']} for {args.image} "
                                                 f"(sha256 {job['sha256']}, upload job {job['id']})")  # fmt: skip
        return
    if args.json:
        return out.json(scan)
    counts = ", ".join(f"{k} {v}" for k, v in (scan.get("counts") or {}).items()) or "no counts"
    out.line(f"{args.file}: imported {scan['tool'] or scan['kind']} {scan['kind']} for {args.image}: {counts} "
             f"(sha256 {scan['upload']['sha256']})")  # fmt: skip


def gate_check(api, out, args):
    body = {"image": args.image, "environment": args.env}
    if api.organization:
        body["organization"] = api.organization
    result = api.post("/gate/check", body).data
    if args.json:
        out.json(result)
    else:
        for text in output.gate_lines(result):
            out.line(text)
    if not result["allowed"]:
        denies = sum(1 for r in result.get("reasons", []) if r["severity"] == "deny")
        raise ClientError(f"{result['image']} may not go to {result['environment']}: {denies} denying reason(s)")


# ---- drift and assets --------------------------------------------------------------------------------------------
def drift(api, out, args):
    report = api.get("/drift", api.org_params(env=args.env, platform=args.platform, site=args.site,
                                              as_of=args.as_of))  # fmt: skip
    if args.json:
        return out.json(report)
    for text in output.drift_lines(report):
        out.line(text)


def assets(api, out, args):
    params = api.org_params(environment=args.env, platform=args.platform, site=args.site, family=args.family,
                            status=args.status)  # fmt: skip
    rows = api.list("/assets", params)
    if args.status:
        if rows and "drift_status" not in rows[0]:
            raise ClientError("this service does not report a per-machine drift status on /api/v1/assets; "
                              "`rf drift` lists outdated machines")  # fmt: skip
        rows = [row for row in rows if row.get("drift_status") == args.status]
    reported = bool(rows) and "drift_status" in rows[0]
    columns = ASSET_COLUMNS + ([("status", "drift_status"), ("baseline", "baseline"), ("days behind", "days_behind")]
                               if reported else [])  # fmt: skip
    out.json(rows) if args.json else out.table(rows, columns)


# ---- insights ----------------------------------------------------------------------------------------------------
def insights_explain(api, out, args):
    insight = api.get("/insights", api.org_params(env=args.env, platform=args.platform, site=args.site,
                                                  as_of=args.as_of))  # fmt: skip
    if args.json:
        return out.json(insight)
    for text in output.insight_lines(insight):
        out.line(text)
