"""Document parsers for SBOM (SPDX, CycloneDX), SARIF and InSpec uploads; plain Python, no ORM."""

from . import cyclonedx, inspec, sarif, spdx, spdx3
from .base import DEFAULT_MAX_BYTES, DocumentError, detect_and_parse, register_parser, registered_parsers
from .results import ControlResult, PackageRecord, ParsedInspec, ParsedSarif, ParsedSbom, SarifRun

# The format modules are imported explicitly above (no discovery); importing a module registers its parsers.
FORMAT_MODULES = (spdx, spdx3, cyclonedx, sarif, inspec)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FORMAT_MODULES",
    "ControlResult",
    "DocumentError",
    "PackageRecord",
    "ParsedInspec",
    "ParsedSarif",
    "ParsedSbom",
    "SarifRun",
    "detect_and_parse",
    "register_parser",
    "registered_parsers",
]
