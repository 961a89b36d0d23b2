"""Resilience Fabric: golden image coverage, drift and supply-chain evidence for VM fleets."""

__version__ = "0.1.0"
