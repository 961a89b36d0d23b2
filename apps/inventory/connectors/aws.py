"""Amazon Web Services connector: AMIs, EC2 instances and Auto Scaling membership, one account + region at a time.

Each target account is reached through STS AssumeRole from one base session (the credential reference's access key,
or boto3's default chain). Every SDK client is built in ``_new_client`` with bounded timeouts and adaptive retries.
Parsing of API responses lives in :mod:`.aws_normalise` so recorded responses parse exactly like live ones.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .aws_normalise import asg_launch_spec, asg_membership, normalise_image, normalise_instance
from .aws_support import (
    CONFIG_SCHEMA,
    SDK_ERRORS,
    check_role_accounts,
    compile_name_pattern,
    describe_error,
    parse_secret,
)
from .base import (
    BaseConnector,
    ConnectorError,
    DiscoveredAsset,
    DiscoveredImage,
    Scope,
    ScopeFailed,
    register_connector,
    require_answer,
)

__all__ = ["AwsConnector", "normalise_image", "normalise_instance"]

DEFAULT_SESSION_NAME = "qlrf-inventory"
EC2_PAGE_SIZE = 1000  # DescribeImages/DescribeInstances accept 5..1000
ASG_PAGE_SIZE = 100  # DescribeAutoScalingGroups accepts at most 100
LIVE_INSTANCE_STATES = ["pending", "running", "stopping", "stopped"]
CREDENTIAL_MARGIN = dt.timedelta(minutes=5)  # re-assume a role this long before its credentials expire


@dataclasses.dataclass
class _Cached:
    """A client (or assumed-role credentials) with the moment its credentials stop being usable (None: never)."""

    value: Any
    expires: dt.datetime | None = None

    def fresh(self) -> bool:
        return self.expires is None or dt.datetime.now(dt.UTC) + CREDENTIAL_MARGIN < self.expires


def _answer(page: dict[str, Any], result_key: str, operation: str) -> list[Any]:
    """The page's result list, once the page is known to be a real answer (result key and a RequestId).

    botocore parses an HTML or empty ``200`` into ``{}`` (or a dict without the result): trusting ``.get(key, [])``
    would read a captive portal as "no machines here".
    """
    require_answer(page, shape_keys=(result_key,), what=operation, request_id="ResponseMetadata.RequestId")
    return page[result_key]


@register_connector
class AwsConnector(BaseConnector):
    """Discovers AMIs and EC2 instances (with their Auto Scaling groups) across accounts × regions."""

    slug = "aws"
    label = "Amazon Web Services"
    config_schema = CONFIG_SCHEMA
    sensitive_parameters = ()

    def __init__(self, config: dict[str, Any], secret: str | None = None):
        super().__init__(config, secret)
        self._accounts = {account["account_id"]: account for account in config["accounts"]}
        self._regions: list[str] = list(config["regions"])
        self._name_pattern = compile_name_pattern(config.get("version_name_pattern"))
        self._version_tag: str = config.get("version_tag") or "Version"
        self._max_attempts: int = int(config.get("max_attempts", 5))
        check_role_accounts(config["accounts"])
        self._session: boto3.Session | None = None
        self._clients: dict[tuple[str, str, str], _Cached] = {}
        self._role_credentials: dict[str, _Cached] = {}
        self._identity: dict[str, Any] | None = None

    # -- the connector interface -------------------------------------------------------------------------------

    def scopes(self) -> list[Scope]:
        """One scope per configured account × region."""
        return [Scope(account=account, region=region) for account in self._accounts for region in self._regions]

    def test_connection(self) -> str:
        """Check the base credentials (GetCallerIdentity) and AssumeRole into every account; one-line summary."""
        region = self._regions[0]
        try:
            identity = self._base_identity(region)
            for account_id in self._accounts:
                self._account_credentials(account_id, region)
        except SDK_ERRORS as exc:
            raise ConnectorError(describe_error(exc, max_attempts=self._max_attempts)) from exc
        accounts = ", ".join(self._accounts)
        return (
            f"authenticated as {identity.get('Arn', '?')}; {len(self._accounts)} account(s) reachable ({accounts}); "
            f"{len(self._regions)} region(s)"
        )

    def iter_images(self, scope: Scope) -> Iterator[DiscoveredImage]:
        """Yield the AMIs owned by the scope's account (and the configured extra owners) in its region."""
        with self._scope_guard(scope):
            ec2 = self._client("ec2", scope)
            owners = list(dict.fromkeys(["self", *self.config.get("image_owners", [])]))
            queries = [{"Owners": owners}]
            if self.config.get("include_shared_images"):
                queries.append({"ExecutableUsers": ["self"]})  # AMIs other accounts shared with this one
            seen: set[str] = set()
            for query in queries:
                pages = ec2.get_paginator("describe_images").paginate(
                    **query,
                    IncludeDeprecated=True,  # a machine on a deprecated shared AMI must still match its version
                    IncludeDisabled=True,
                    PaginationConfig={"PageSize": EC2_PAGE_SIZE},
                )
                for page in pages:
                    for image in _answer(page, "Images", "DescribeImages"):
                        if image.get("ImageId") in seen:
                            continue
                        seen.add(image.get("ImageId"))
                        yield normalise_image(
                            image,
                            account=scope.account,
                            region=scope.region,
                            version_tag=self._version_tag,
                            name_pattern=self._name_pattern,
                        )

    def iter_assets(self, scope: Scope) -> Iterator[DiscoveredAsset]:
        """Yield the scope's live EC2 instances (terminated ones are not assets) with ASG membership and edges."""
        with self._scope_guard(scope):
            membership, launch = self._asg_graph(scope)
            ec2 = self._client("ec2", scope)
            pages = ec2.get_paginator("describe_instances").paginate(
                Filters=[{"Name": "instance-state-name", "Values": LIVE_INSTANCE_STATES}],
                PaginationConfig={"PageSize": EC2_PAGE_SIZE},
            )
            for page in pages:
                for reservation in _answer(page, "Reservations", "DescribeInstances"):
                    for instance in reservation.get("Instances", []):
                        asset = normalise_instance(
                            instance,
                            account=scope.account,
                            region=scope.region,
                            asg_by_instance=membership,
                            group_launch=launch,
                        )
                        if asset is not None:
                            yield asset

    # -- helpers -----------------------------------------------------------------------------------------------

    def _asg_graph(self, scope: Scope) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
        """Instance id → Auto Scaling group name, and group name → (launch template ref, AMI) for every group.

        A template ref is ``<lt-id>:<version number>`` ($Latest/$Default resolved to the number in force); a launch
        configuration is ``launch-configuration:<name>``. One call per distinct template version or configuration.
        """
        autoscaling = self._client("autoscaling", scope)
        pages = autoscaling.get_paginator("describe_auto_scaling_groups").paginate(
            PaginationConfig={"PageSize": ASG_PAGE_SIZE}
        )
        groups = [group for page in pages for group in _answer(page, "AutoScalingGroups", "DescribeAutoScalingGroups")]
        resolved: dict[tuple[str, str, str], tuple[str, str]] = {}
        launch: dict[str, tuple[str, str]] = {}
        for group in groups:
            spec = asg_launch_spec(group)
            if spec is None:
                continue
            if spec not in resolved:
                resolved[spec] = self._resolve_launch(scope, *spec)
            launch[str(group["AutoScalingGroupName"])] = resolved[spec]
        return asg_membership(groups), launch

    def _resolve_launch(self, scope: Scope, kind: str, ident: str, version: str) -> tuple[str, str]:
        """(template ref, AMI) of one launch template version or launch configuration."""
        if kind == "configuration":
            page = self._client("autoscaling", scope).describe_launch_configurations(LaunchConfigurationNames=[ident])
            configurations = _answer(page, "LaunchConfigurations", "DescribeLaunchConfigurations")
            image = str(configurations[0].get("ImageId") or "") if configurations else ""
            return f"launch-configuration:{ident}", image
        key = "LaunchTemplateId" if ident.startswith("lt-") else "LaunchTemplateName"
        page = self._client("ec2", scope).describe_launch_template_versions(**{key: ident, "Versions": [version]})
        versions = _answer(page, "LaunchTemplateVersions", "DescribeLaunchTemplateVersions")
        if not versions:
            return f"{ident}:{version}", ""
        found = versions[0]
        ref = f"{found.get('LaunchTemplateId') or ident}:{found.get('VersionNumber', version)}"
        return ref, str((found.get("LaunchTemplateData") or {}).get("ImageId") or "")

    @contextlib.contextmanager
    def _scope_guard(self, scope: Scope) -> Iterator[None]:
        """Turn every SDK failure inside a scope into ScopeFailed with a readable reason."""
        if scope.account not in self._accounts or scope.region not in self._regions:
            raise ScopeFailed(scope, "scope is not part of this connector's configuration")
        try:
            yield
        except ScopeFailed:
            raise
        except ConnectorError as exc:
            raise ScopeFailed(scope, str(exc)) from exc
        except SDK_ERRORS as exc:
            raise ScopeFailed(scope, describe_error(exc, max_attempts=self._max_attempts)) from exc

    # -- clients and credentials: the only place SDK clients are made ------------------------------------------

    def _botocore_config(self) -> Config:
        """Timeouts and adaptive retries shared by every client (DESIGN.md invariant 7: outside calls are bounded)."""
        return Config(
            connect_timeout=self.config.get("connect_timeout", 5),
            read_timeout=self.config.get("read_timeout", 30),
            # botocore's ``max_attempts`` counts retries only; ``total_max_attempts`` counts every attempt, which is
            # what the config key ``max_attempts`` means (1 = no retry).
            retries={"mode": "adaptive", "total_max_attempts": self._max_attempts},
            user_agent_extra="qlrf-inventory",
        )

    def _base_session(self) -> boto3.Session:
        """The session every call starts from: the secret's access key, or boto3's default credential chain."""
        if self._session is None:
            credentials = parse_secret(self.secret) if self.secret else {}
            self._session = boto3.Session(**credentials)
        return self._session

    def _new_client(self, service: str, region: str, credentials: dict[str, str] | None = None) -> Any:
        """Build one boto3 client with the connector's timeouts, retries and optional endpoint URL."""
        kwargs: dict[str, Any] = {"region_name": region, "config": self._botocore_config()}
        if self.config.get("endpoint_url"):
            kwargs["endpoint_url"] = self.config["endpoint_url"]
        return self._base_session().client(service, **kwargs, **(credentials or {}))

    def _client(self, service: str, scope: Scope) -> Any:
        """The (cached) client for a service in one scope, using that account's assumed-role credentials."""
        key = (service, scope.account, scope.region)
        cached = self._clients.get(key)
        if cached is None or not cached.fresh():
            credentials = self._account_credentials(scope.account, scope.region)
            client = self._new_client(service, scope.region, credentials.value if credentials else None)
            cached = self._clients[key] = _Cached(client, credentials.expires if credentials else None)
        return cached.value

    def _sts(self, region: str) -> Any:
        """The base session's STS client for a region (cached)."""
        key = ("sts", "", region)
        if key not in self._clients:
            self._clients[key] = _Cached(self._new_client("sts", region))
        return self._clients[key].value

    def _base_identity(self, region: str) -> dict[str, Any]:
        """GetCallerIdentity of the base session (asked once)."""
        if self._identity is None:
            self._identity = self._sts(region).get_caller_identity()
        return self._identity

    def _account_credentials(self, account_id: str, region: str) -> _Cached | None:
        """Assumed-role credentials for an account, or None when the base session itself is that account."""
        account = self._accounts[account_id]
        if not account.get("role_arn"):
            actual = self._base_identity(region).get("Account")
            if actual != account_id:
                raise ConnectorError(f"account {account_id} has no role_arn, but the base credentials are {actual}'s")
            return None
        cached = self._role_credentials.get(account_id)
        if cached is None or not cached.fresh():
            cached = self._role_credentials[account_id] = self._assume_role(account, region)
        return cached

    def _assume_role(self, account: dict[str, Any], region: str) -> _Cached:
        """STS AssumeRole into one account; a refusal becomes a ConnectorError naming the role."""
        params = {
            "RoleArn": account["role_arn"],
            "RoleSessionName": account.get("session_name") or DEFAULT_SESSION_NAME,
        }
        if account.get("external_id"):
            params["ExternalId"] = account["external_id"]
        try:
            credentials = self._sts(region).assume_role(**params)["Credentials"]
        except ClientError as exc:
            error = exc.response.get("Error") or {}
            code, message = error.get("Code") or "UnknownError", error.get("Message") or ""
            raise ConnectorError(
                f"{code}: AssumeRole denied for {account['role_arn']}: {message}".rstrip(": ")
            ) from exc
        keys = {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }
        return _Cached(keys, credentials.get("Expiration"))
