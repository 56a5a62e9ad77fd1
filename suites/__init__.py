"""The checks, one package per area; installed as ``conformance.suites``."""
