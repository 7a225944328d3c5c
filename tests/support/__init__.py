"""Test support: fixtures and helpers shared by several test packages (pytest lives here,
never in src/)."""
