"""``rf``'s entry point: the command tree, the choice of mode, one line and a stable exit status on every failure.

Remote mode (``--url``/``--token``, ``QLRF_URL``/``QLRF_TOKEN`` or a profile) calls the REST API; without them ``rf``
runs on the server: the same commands through the API in-process (``qlrf.cli_local``), and the server's management
commands (``rf org create``, ``rf token create``, ``rf scan``…) as before (``qlrf.cli``). See ADR 024.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import commands as c
from . import config
from .errors import FAILED, OK, USAGE, ClientError, UsageError
from .output import Printer
from .transport import Api, RemoteTransport

PROG = "rf"
TIERS = ["dev", "staging", "prod"]
PLATFORMS = ["aws", "azure", "gcp", "vsphere"]


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so a usage error is one line and exit 2."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def _read(parser, func, **kwargs):
    sub = parser.add_parser(formatter_class=argparse.ArgumentDefaultsHelpFormatter, **kwargs)
    sub.set_defaults(func=func)
    sub.add_argument("--json", action="store_true", help="print the API's JSON instead of lines")
    sub.add_argument("--org", default=argparse.SUPPRESS, help="organization slug (also accepted before the command)")
    return sub


def _image(sub):
    sub.add_argument("image", metavar="FAMILY@VERSION")
    return sub


def _globals(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--url", help="service URL (QLRF_URL)")
    parser.add_argument("--token", help="API token (QLRF_TOKEN)")
    parser.add_argument("--profile", help="profile of ~/.config/qlrf/config.toml (QLRF_PROFILE)")
    parser.add_argument("--org", help="organization slug (QLRF_ORG; a token's own by default)")
    parser.add_argument("--as", dest="as_user", help="local mode: act as this account (QLRF_AS)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    return parser


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description="Resilience Fabric client: remote with QLRF_URL and QLRF_TOKEN, else "
                    "local on the server.", epilog="Server commands (local mode only): rf org create, rf member add, "
                    "rf token create|revoke, rf scan, rf load-demo, rf contract validate, rf drift evaluate, "
                    "rf evidence-pack …, rf events …; `rf help` lists them on the server.")  # fmt: skip
    _globals(parser)
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", parser_class=Parser, required=True)

    for name, plural in (("env", "environments"), ("site", "sites")):
        verbs = groups.add_parser(name, help=f"{plural}: list, create").add_subparsers(
            dest="verb", metavar="VERB", parser_class=Parser, required=True
        )
        listing = _read(verbs, getattr(c, f"{name}_list"), name="list", help=f"list {plural}")
        create = _read(verbs, getattr(c, f"{name}_create"), name="create", help=f"create one of the {plural}")
        create.add_argument("slug")
        create.add_argument("--name")
        if name == "env":
            create.add_argument("--tier", required=True, choices=TIERS)
            create.add_argument("--signature-policy", choices=["warn", "enforce"])
        else:
            listing.add_argument("--platform", choices=PLATFORMS)
            create.add_argument("--kind", default="cloud_region", choices=["cloud_region", "datacenter"])
            create.add_argument("--platform", choices=PLATFORMS)
            create.add_argument("--region")
        if name == "env":
            listing.set_defaults(platform=None)

    verbs = groups.add_parser("image", help="image versions: register, publish, promote, show…").add_subparsers(
        dest="verb", metavar="VERB", parser_class=Parser, required=True
    )
    sub = _read(verbs, c.image_register, name="register", help="register a version from its image contract")
    sub.add_argument("contract", metavar="CONTRACT", help="the image contract (YAML or JSON file)")
    sub.add_argument("--version", required=True, help="the version being registered")
    sub.add_argument("--artifact", action="append", metavar="PLATFORM:REF[@REGION[:ACCOUNT]]",
                     help="an image artifact, e.g. aws:ami-0abc@eu-west-1 (repeat for each copy)")  # fmt: skip
    sub.add_argument("--parent", help="FAMILY@VERSION it was built from")
    for verb, func in (("publish", c.image_publish), ("deprecate", c.image_deprecate)):
        _image(_read(verbs, func, name=verb, help=f"{verb} a version"))
    sub = _image(_read(verbs, c.image_revoke, name="revoke", help="revoke a version (and its descendants)"))
    sub.add_argument("--reason", required=True)
    sub.add_argument("--effective-at", help="ISO 8601 instant (default: now)")
    sub = _image(_read(verbs, c.image_promote, name="promote", help="promote a version to an environment's channel"))
    sub.add_argument("--env", required=True, help="environment slug")
    sub.add_argument("--grace-days", type=int)
    _image(_read(verbs, c.image_show, name="show", help="a version: artifacts, badges, signatures, SBOM summary"))
    sub = _read(verbs, c.image_list, name="list", help="list versions")
    sub.add_argument("--family")
    sub.add_argument("--status", choices=["draft", "published", "deprecated", "revoked"])

    verbs = groups.add_parser("connector", help="connectors: create, list, test, scan").add_subparsers(
        dest="verb", metavar="VERB", parser_class=Parser, required=True
    )
    _read(verbs, c.connector_list, name="list", help="list connectors").add_argument("--platform", choices=PLATFORMS)
    sub = _read(verbs, c.connector_create, name="create", help="create a connector")
    sub.add_argument("name")
    sub.add_argument("--platform", required=True, choices=PLATFORMS)
    sub.add_argument("--config", help="JSON object, or @FILE holding one")
    sub.add_argument("--credential-ref")
    sub.add_argument("--project", help="project slug")
    sub.add_argument("--schedule-minutes", type=int)
    _read(verbs, c.connector_test, name="test", help="check credentials and reach").add_argument("name")
    sub = _read(verbs, c.connector_scan, name="scan", help="scan now and wait for the result (progress on stderr)")
    sub.add_argument("name")
    sub.add_argument("--no-wait", action="store_true", help="print the queued run and return")

    verbs = groups.add_parser("sbom", help="SBOMs: import, diff").add_subparsers(
        dest="verb", metavar="VERB", parser_class=Parser, required=True
    )
    sub = _read(verbs, c.sbom_import, name="import", help="upload an SBOM (SPDX, CycloneDX) for a version")
    sub.add_argument("--image", required=True, metavar="FAMILY@VERSION")
    sub.add_argument("file")
    sub.add_argument("--async", dest="async_", action="store_true", help="parse in an upload job, with progress")
    sub = _image(_read(verbs, c.sbom_diff, name="diff", help="packages added, removed, changed against a version"))
    sub.add_argument("--against", required=True, metavar="FAMILY@VERSION")

    verbs = groups.add_parser("scan-results", help="scan results: upload").add_subparsers(
        dest="verb", metavar="VERB", parser_class=Parser, required=True
    )
    sub = _read(verbs, c.scan_results_upload, name="upload", help="upload a SARIF log or an InSpec JSON report")
    sub.add_argument("--image", required=True, metavar="FAMILY@VERSION")
    sub.add_argument("file")
    sub.add_argument("--async", dest="async_", action="store_true", help="parse in an upload job, with progress")

    verbs = groups.add_parser("gate", help="the deploy gate: check").add_subparsers(
        dest="verb", metavar="VERB", parser_class=Parser, required=True
    )
    sub = _read(verbs, c.gate_check, name="check", help="may FAMILY@VERSION go to ENV? exit 0 allowed, 1 denied")
    sub.add_argument("--image", required=True, metavar="FAMILY@VERSION")
    sub.add_argument("--env", required=True)

    sub = _read(groups, c.drift, name="drift", help="the drift report (live or --as-of)")
    for flag in ("--env", "--site", "--as-of"):
        sub.add_argument(flag)
    sub.add_argument("--platform", choices=PLATFORMS)
    verbs = groups.add_parser("insights", help="insights: explain why a scope drifts").add_subparsers(
        dest="verb", metavar="VERB", parser_class=Parser, required=True
    )
    sub = _read(verbs, c.insights_explain, name="explain", help="ranked root causes with evidence (live or --as-of)")
    for flag in ("--env", "--site", "--as-of"):
        sub.add_argument(flag)
    sub.add_argument("--platform", choices=PLATFORMS)
    sub = _read(groups, c.assets, name="assets", help="machines, filtered")
    sub.add_argument("--status", help="per-machine drift status, e.g. outdated")
    for flag in ("--env", "--site", "--family"):
        sub.add_argument(flag)
    sub.add_argument("--platform", choices=PLATFORMS)

    sub = groups.add_parser("completion", help='print a shell completion script: eval "$(rf completion bash)"')
    sub.add_argument("shell", choices=["bash"])
    sub.set_defaults(func=None)
    return parser


CLIENT_GROUPS = {
    "env",
    "site",
    "image",
    "connector",
    "sbom",
    "scan-results",
    "gate",
    "drift",
    "assets",
    "insights",
    "completion",
}
GLOBAL_WITH_VALUE = {"--url", "--token", "--profile", "--org", "--as"}


def _split_globals(argv: list[str]) -> tuple[list[str], list[str]]:
    """(global options, the rest): globals come before the command."""
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        flag = argv[index].split("=", 1)[0]
        index += 2 if flag in GLOBAL_WITH_VALUE and "=" not in argv[index] else 1
    return argv[:index], argv[index:]


def is_client_command(rest: list[str]) -> bool:
    if not rest:
        return True
    if rest[0] == "drift" and len(rest) > 1 and not rest[1].startswith("-"):
        return False  # rf drift evaluate FILES: a server command
    if rest[0] == "sbom" and len(rest) > 1 and rest[1] not in ("import", "diff") and not rest[1].startswith("-"):
        return False
    return rest[0] in CLIENT_GROUPS


def main(argv: list[str] | None = None, *, stdout=None, stderr=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    stderr = stderr or sys.stderr
    try:
        return _run(argv, stdout, stderr)
    except ClientError as exc:
        print(f"rf: error: {exc}", file=stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("rf: interrupted", file=stderr)
        return 130
    except BrokenPipeError:  # rf … | head
        return OK
    except Exception as exc:  # noqa: BLE001 - one readable line for the user, never a traceback
        print(f"rf: error: {type(exc).__name__}: {exc}", file=stderr)
        return FAILED


def _run(argv, stdout, stderr) -> int:
    global_args, rest = _split_globals(argv)
    if rest[:1] == ["help"] and not _server_installed():
        rest = ["--help"]
    if rest[:1] == ["help"] or not is_client_command(rest):
        target = _target(_globals(Parser(prog=PROG, add_help=False)).parse_known_args(global_args)[0])
        if target.remote:
            raise UsageError(f"rf {' '.join(rest[:2])}: a server command; run it on the server (local mode)")
        return _server_command(rest)
    if not rest or rest[0] in ("-h", "--help"):
        build_parser().print_help(file=stdout)
        return OK
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    if args.group == "completion":
        from .completion import bash_script

        print(bash_script(build_parser()), file=stdout or sys.stdout)
        return OK
    printer = Printer(stdout, stderr, quiet=args.quiet)
    api = _api(_target(args), args, printer)
    args.func(api, printer, args)
    return OK


def _target(args) -> config.Target:
    return config.resolve(url=args.url, token=args.token, profile=args.profile, organization=args.org)


def _api(target: config.Target, args, printer: Printer) -> Api:
    if target.remote:
        transport = RemoteTransport(target.url, target.token)
        return Api(transport, target.organization, progress=printer.progress)
    if not _server_installed():
        raise UsageError("no service configured: set QLRF_URL and QLRF_TOKEN (or --url/--token, or a profile in "
                         f"{config.config_path()})")  # fmt: skip
    from qlrf.cli_local import local_api

    as_user = args.as_user or os.environ.get("QLRF_AS") or None
    return local_api(organization=target.organization, as_user=as_user, progress=printer.progress)


def _server_installed() -> bool:
    """Local mode needs the server's code and Django; a client-only install (pipx) has neither."""
    from importlib.util import find_spec

    return find_spec("django") is not None and find_spec("qlrf") is not None


def _server_command(rest: list[str]) -> int:
    if not _server_installed():
        raise UsageError(f"rf {' '.join(rest[:2])}: a server command, and this is the client alone (no Django); "
                         "the client's commands are in rf --help")  # fmt: skip
    from qlrf.cli import main as server_main

    code = server_main(rest)
    return code if code in (OK, FAILED, USAGE) or code > 2 else FAILED


if __name__ == "__main__":
    sys.exit(main())
