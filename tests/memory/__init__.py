"""Tests of the session memory (a package, so its conftest never shadows tests/conftest.py)."""
