"""Fixtures shared by the integration modules: one Ray cluster for every Ray test of the session (ray_support.py)."""
from tests.integration.ray_support import cluster  # noqa: F401
