"""shebao — social insurance administration."""
