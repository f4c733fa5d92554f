"""The central tests' session-wide fixtures: one private PostgreSQL for the
dashboard and report tests, the dashboard over it, one headless Chromium."""

from tests.support.dashboard import chromium, dashboard, store, store_db

__all__ = ["chromium", "dashboard", "store", "store_db"]
