"""Table of mutations of the filled examples: each breaks one rule and must fail with exact pointer, line and code."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest

from apps.images.contracts import format_fault, validate_contract

UBUNTU = "ubuntu-22.04.contract.yaml"
RHEL = "rhel-9.contract.yaml"
WINDOWS = "windows-server-2022.contract.yaml"


def replace(old: str, new: str) -> Callable[[str], str]:
    """A mutation replacing exactly one occurrence of old."""

    def mutate(text: str) -> str:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        return text.replace(old, new)

    return mutate


def drop_block(header: str) -> Callable[[str], str]:
    """A mutation removing a top-level section: its header line and every indented line under it."""

    def mutate(text: str) -> str:
        pattern = re.compile(rf"^{re.escape(header)}\n(?:[ #].*\n|\n)*", re.MULTILINE)
        mutated, count = pattern.subn("", text)
        assert count == 1
        return mutated

    return mutate


def chain(*mutations: Callable[[str], str]) -> Callable[[str], str]:
    """Several mutations applied in order."""

    def mutate(text: str) -> str:
        for mutation in mutations:
            text = mutation(text)
        return text

    return mutate


@dataclass(frozen=True)
class Mutation:
    """One broken rule: the example, how to break it, and the faults expected (pointer, line anchor, code)."""

    id: str
    example: str
    mutate: Callable[[str], str]
    expected: list[tuple[str, str | tuple[str, int], str]]
    message: str | None = None


MUTATIONS = [
    # additionalProperties: false
    Mutation(
        "unknown-key",
        UBUNTU,
        replace("  family: ubuntu-2204-base\n", "  family: ubuntu-2204-base\n  team: platform\n"),
        [("/identity/team", "  team: platform", "unknown_key")],
        "unknown key 'team'; allowed keys: family, description, os, version_scheme, owners",
    ),
    Mutation(
        "misspelt-key-is-unknown-and-leaves-required-missing",
        WINDOWS,
        replace("  real_time_protection: true", "  real_time_protecton: true"),
        [
            ("/defender", "defender:", "missing_key"),
            ("/defender/real_time_protecton", "real_time_protecton", "unknown_key"),
        ],
    ),
    Mutation(
        "unknown-key-in-shared-definition",
        RHEL,
        replace("    format: cyclonedx\n", "    format: cyclonedx\n    spec_version: '1.6'\n"),
        [("/supply_chain/sbom/spec_version", "spec_version", "unknown_key")],
    ),
    # type
    Mutation(
        "wrong-type-unquoted-version",
        UBUNTU,
        replace('    version: "22.04"', "    version: 22.04"),
        [("/identity/os/version", "    version: 22.04", "wrong_type")],
        '22.04 is not of type "string"',
    ),
    Mutation(
        "wrong-type-list-expected",
        RHEL,
        replace("      regions: [us-east-1, us-west-2]", "      regions: us-east-1"),
        [("/targets/aws/0/regions", "      regions: us-east-1", "wrong_type")],
        '"us-east-1" is not of type "array"',
    ),
    # required
    Mutation(
        "missing-required-section",
        UBUNTU,
        drop_block("kernel:"),
        [("", "apiVersion: qlrf.io/v1", "missing_key")],
        "missing required key 'kernel'",
    ),
    Mutation(
        "missing-required-nested-key-points-at-parent",
        WINDOWS,
        replace("  password_length: 20\n", ""),
        [("/laps", "laps:", "missing_key")],
        "missing required key 'password_length'",
    ),
    Mutation(
        "golden-base-requires-parent",
        UBUNTU,
        replace("  source: vendor", "  source: golden"),
        [("/base", "base:", "missing_key")],
        "missing required key 'parent'",
    ),
    Mutation(
        "key-signing-requires-key-ids",
        UBUNTU,
        replace("    method: keyless", "    method: key"),
        [("/supply_chain/signature", "  signature:", "missing_key")],
        "missing required key 'cosign_key_ids'",
    ),
    Mutation(
        "wsus-provider-requires-wsus-section",
        WINDOWS,
        replace("  provider: azure_update_manager", "  provider: wsus"),
        [("/updates", "updates:", "missing_key")],
        "missing required key 'wsus'",
    ),
    # enum / const
    Mutation(
        "bad-enum-cis-level",
        UBUNTU,
        replace("    level: 1\n", "    level: 3\n"),
        [("/hardening/cis/level", "    level: 3", "bad_enum")],
        "3 is not one of [1, 2]",
    ),
    Mutation(
        "bad-enum-string-level",
        RHEL,
        replace("    level: 2\n", '    level: "2"\n'),
        [("/hardening/cis/level", '    level: "2"', "bad_enum")],
        '"2" is not one of [1, 2]',
    ),
    Mutation(
        "bad-enum-laps-directory",
        WINDOWS,
        replace("  backup_directory: AzureAD", "  backup_directory: EntraID"),
        [("/laps/backup_directory", "backup_directory: EntraID", "bad_enum")],
        '"EntraID" is not one of ["AD", "AzureAD"]',
    ),
    Mutation(
        "credential-guard-needs-vbs",
        WINDOWS,
        replace("  vbs:\n    enabled: true", "  vbs:\n    enabled: false"),
        [("/credential_guard/vbs/enabled", "    enabled: false", "bad_enum")],
        "false is not true",
    ),
    Mutation(
        "bad-api-version",
        RHEL,
        replace("apiVersion: qlrf.io/v1", "apiVersion: qlrf.io/v2"),
        [("/apiVersion", "apiVersion: qlrf.io/v2", "bad_enum")],
        '"qlrf.io/v2" is not "qlrf.io/v1"',
    ),
    # format: date
    Mutation(
        "bad-date-month-13",
        UBUNTU,
        replace("        expiry: 2027-09-30", "        expiry: 2027-13-01"),
        [("/hardening/cis/exceptions/0/expiry", "expiry: 2027-13-01", "bad_format")],
        '"2027-13-01" is not a valid date',
    ),
    Mutation(
        "bad-date-day-first",
        WINDOWS,
        replace("        expiry: 2028-01-31", "        expiry: 31/01/2028"),
        [("/hardening/cis/exceptions/1/expiry", "expiry: 31/01/2028", "bad_format")],
    ),
    # pattern
    Mutation(
        "pattern-aws-account-id",
        UBUNTU,
        replace('    - account_id: "111122223333"', '    - account_id: "11112222333"'),
        [("/targets/aws/0/account_id", "account_id:", "pattern_mismatch")],
    ),
    Mutation(
        "pattern-cosign-key-id",
        RHEL,
        replace("      - sha256:5f0d8b3c", "      - sha256:5F0D8B3C"),
        [("/supply_chain/signature/cosign_key_ids/0", "      - sha256:5F0D8B3C", "pattern_mismatch")],
    ),
    Mutation(
        "pattern-cis-control-id",
        WINDOWS,
        replace('      - control: "2.3.11.4"', '      - control: "CIS-2.3.11.4"'),
        [("/hardening/cis/exceptions/0/control", "CIS-2.3.11.4", "pattern_mismatch")],
    ),
    Mutation(
        "pattern-sysctl-key",
        UBUNTU,
        replace("    fs.suid_dumpable: 0\n", "    fs.suid_dumpable: 0\n    SuidDumpable: 0\n"),
        [("/kernel/sysctl/SuidDumpable", "    SuidDumpable: 0", "pattern_mismatch")],
    ),
    # minimum / maximum / minLength
    Mutation(
        "maximum-signature-interval",
        WINDOWS,
        replace("  signature_update_interval_hours: 4", "  signature_update_interval_hours: 48"),
        [("/defender/signature_update_interval_hours", "signature_update_interval_hours", "out_of_range")],
        "48 is greater than the maximum of 24",
    ),
    Mutation(
        "minimum-laps-length",
        WINDOWS,
        replace("  password_length: 20", "  password_length: 6"),
        [("/laps/password_length", "password_length", "out_of_range")],
        "6 is less than the minimum of 8",
    ),
    Mutation(
        "maximum-slsa-level",
        UBUNTU,
        replace("  slsa_level: 3", "  slsa_level: 4"),
        [("/supply_chain/slsa_level", "slsa_level", "out_of_range")],
    ),
    Mutation(
        "short-justification",
        RHEL,
        replace("Break-glass console access is controlled in vCenter; the GRUB password is managed there.", "trust me"),
        [("/hardening/cis/exceptions/1/justification", "justification: trust me", "bad_length")],
    ),
    Mutation(
        "empty-owner-list",
        RHEL,
        replace(
            "  owners:\n    - name: Middleware Platform\n      email: middleware@example.com\n      role: maintainer\n"
            "    - name: Security Operations\n      email: secops@example.com\n      role: security\n",
            "  owners: []\n",
        ),
        [("/identity/owners", "  owners: []", "bad_length")],
        "expected at least 1 item(s), got 0",
    ),
    # semantic rules
    Mutation(
        "expired-exception",
        UBUNTU,
        replace("        expiry: 2027-09-30", "        expiry: 2025-01-31"),
        [("/hardening/cis/exceptions/0/expiry", "expiry: 2025-01-31", "expired_exception")],
        "exception for CIS control 1.1.2.1.1 expired on 2025-01-31 (today is 2026-11-26)",
    ),
    Mutation(
        "duplicate-exception-control",
        UBUNTU,
        replace('      - control: "1.4.1"', '      - control: "1.1.2.1.1"'),
        [("/hardening/cis/exceptions/1/control", ('control: "1.1.2.1.1"', 2), "duplicate_exception")],
    ),
    Mutation(
        "service-enabled-and-disabled",
        UBUNTU,
        replace("    - apparmor\n  disabled:", "    - apparmor\n    - cups\n  disabled:"),
        [("/services/disabled/1", ("    - cups", 2), "service_conflict")],
        "'cups' is listed in both services.enabled and services.disabled",
    ),
    Mutation(
        "package-required-and-forbidden",
        RHEL,
        replace("    - firewalld\n  forbidden:", "    - firewalld\n    - tftp-server\n  forbidden:"),
        [("/packages/forbidden/2", ("    - tftp-server", 2), "package_conflict")],
    ),
    Mutation(
        "patch-sla-out-of-order",
        RHEL,
        replace("    high: 14", "    high: 2"),
        [("/patch_sla/max_days_behind/high", "    high: 2", "sla_order")],
        "high allows 2 days, fewer than critical (3 days)",
    ),
    Mutation(
        "duplicate-asr-rule",
        WINDOWS,
        replace("    - id: 01443614-cd74-433a-b99e-2ecdc07bfc25", "    - id: 56A863A9-875E-4185-98A7-B882C64B5CE5"),
        [("/defender/asr_rules/6/id", "56A863A9", "duplicate_asr_rule")],
    ),
    # YAML-level faults
    Mutation(
        "duplicate-key",
        RHEL,
        replace("    level: 2\n", "    level: 2\n    level: 1\n"),
        [("/hardening/cis/level", "    level: 1", "duplicate_key")],
        "duplicate key 'level' (first defined on line 34)",
    ),
    Mutation(
        "invalid-yaml",
        WINDOWS,
        replace("  real_time_protection: true", "  real_time_protection: true: false"),
        [("", "real_time_protection: true: false", "invalid_yaml")],
        "invalid YAML: mapping values are not allowed here",
    ),
    Mutation(
        "yaml-bomb-alias",
        RHEL,
        chain(
            replace(
                "      email: secops@example.com\n      role: security\n",
                "      email: &sec secops@example.com\n      role: security\n",
            ),
            replace(
                "        approved_by: secops@example.com\n        expiry: 2027-06-30",
                "        approved_by: *sec\n        expiry: 2027-06-30",
            ),
        ),
        [("", "approved_by: *sec", "yaml_alias")],
        "YAML aliases are not allowed in contracts (*sec)",
    ),
    Mutation(
        "oversized-file",
        WINDOWS,
        lambda text: text + "# padding\n" * 30_000,
        [("", "# Filled example", "too_large")],
    ),
    Mutation(
        "unknown-kind",
        UBUNTU,
        replace("kind: ImageContract", "kind: LinuxImageContract"),
        [("/kind", "kind: LinuxImageContract", "unknown_kind")],
        '"LinuxImageContract" is not one of ["ImageContract", "WindowsImageContract"]',
    ),
    Mutation(
        "python-tag-is-refused-not-run",
        UBUNTU,
        replace("  publisher: Canonical", "  publisher: !!python/object/apply:os.system ['touch /tmp/qlrf-pwned']"),
        [("/base/publisher", "!!python/object/apply", "invalid_yaml")],
        "unsupported YAML tag tag:yaml.org,2002:python/object/apply:os.system",
    ),
]


def _expected_line(text: str, anchor: str | tuple[str, int], line_of: Callable[..., int]) -> int:
    needle, occurrence = anchor if isinstance(anchor, tuple) else (anchor, 1)
    return line_of(text, needle, occurrence)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_mutation_fails_with_exact_pointer_line_and_code(mutation: Mutation, example_text, line_of, today) -> None:
    original = example_text(mutation.example)
    text = mutation.mutate(original)
    assert validate_contract(original, today=today).valid  # the break comes from the mutation alone

    result = validate_contract(text, filename=mutation.example, today=today)

    expected = [(ptr, _expected_line(text, anchor, line_of), code) for ptr, anchor, code in mutation.expected]
    assert result.valid is False
    assert [(f.pointer, f.line, f.code) for f in result.faults] == expected
    if mutation.message is not None:
        assert result.faults[-1].message == mutation.message


def test_an_anchor_without_alias_is_harmless(example_text, today: date) -> None:
    """Anchors are only dangerous through aliases: an anchor alone is accepted."""
    text = example_text(RHEL).replace("      email: secops@example.com\n", "      email: &sec secops@example.com\n")

    assert validate_contract(text, today=today).valid


def test_the_brief_message_format(example_text, line_of, today: date) -> None:
    text = example_text(UBUNTU).replace("    level: 1\n", "    level: 3\n")

    fault = validate_contract(text, today=today).faults[0]

    line = line_of(text, "    level: 3")
    assert format_fault(UBUNTU, fault) == f"{UBUNTU}:{line}: /hardening/cis/level: 3 is not one of [1, 2]"


def test_windows_kind_on_a_linux_document_uses_the_windows_schema(example_text, line_of, today: date) -> None:
    text = example_text(UBUNTU).replace("kind: ImageContract", "kind: WindowsImageContract")

    result = validate_contract(text, today=today)

    root = line_of(text, "apiVersion:")
    assert result.kind == "WindowsImageContract"
    assert [(f.pointer, f.line, f.code, f.message) for f in result.faults] == [
        ("", root, "missing_key", "missing required key 'updates'"),
        ("", root, "missing_key", "missing required key 'defender'"),
        ("", root, "missing_key", "missing required key 'laps'"),
        ("", root, "missing_key", "missing required key 'credential_guard'"),
        ("", root, "missing_key", "missing required key 'features'"),
        ("/identity/os", line_of(text, "  os:"), "missing_key", "missing required key 'edition'"),
        ("/identity/os", line_of(text, "  os:"), "missing_key", "missing required key 'installation'"),
        ("/identity/os/name", line_of(text, "    name: ubuntu"), "bad_enum", '"ubuntu" is not "windows-server"'),
        (
            "/identity/os/version",
            line_of(text, "    version:"),
            "bad_enum",
            '"22.04" is not one of ["2019", "2022", "2025"]',
        ),
        (
            "/hardening/cis/profile",
            line_of(text, "    profile: server"),
            "bad_enum",
            '"server" is not one of ["member_server", "domain_controller"]',
        ),
        (
            "/hardening/mandatory_access_control",
            line_of(text, "  mandatory_access_control:"),
            "unknown_key",
            "unknown key 'mandatory_access_control'; allowed keys: cis",
        ),
        (
            "/packages",
            line_of(text, "packages:"),
            "unknown_key",
            "unknown key 'packages'; allowed keys: apiVersion, kind, identity, base, hardening, updates, defender, "
            "laps, credential_guard, features, services, patch_sla, supply_chain, targets",
        ),
        (
            "/kernel",
            line_of(text, "kernel:"),
            "unknown_key",
            "unknown key 'kernel'; allowed keys: apiVersion, kind, identity, base, hardening, updates, defender, "
            "laps, credential_guard, features, services, patch_sla, supply_chain, targets",
        ),
    ]
