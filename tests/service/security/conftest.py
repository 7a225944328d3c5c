import os

os.environ.setdefault("SHEBAO_ARGON2_FAST", "1")
