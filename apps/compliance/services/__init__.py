"""Writes of the compliance app: uploads, signature checks, signing keys, the deploy gate (each one transaction)."""

from ..selectors import sbom_diff  # a read, kept with the selectors; re-exported because the issue names it here
from .gate import GateReason, gate_check
from .signatures import bundle_bytes, signature_verify, signing_key_create
from .upload_jobs import upload_job_run, upload_job_submit
from .uploads import SCAN, upload_store_and_parse

__all__ = [
    "SCAN",
    "GateReason",
    "bundle_bytes",
    "gate_check",
    "sbom_diff",
    "signature_verify",
    "signing_key_create",
    "upload_job_run",
    "upload_job_submit",
    "upload_store_and_parse",
]
