"""Helpers shared by tests (model builders, file makers)."""
