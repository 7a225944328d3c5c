"""Core: money, identifiers, regions, periods and errors shared by every bureau and platform."""
