"""The HTML report (``harness report``) and its local server (``harness view``)."""
from __future__ import annotations

from .build import REPORT, ReportResult, build_report

__all__ = ["REPORT", "ReportResult", "build_report"]
