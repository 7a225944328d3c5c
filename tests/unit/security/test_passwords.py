from shebao.security import passwords


def test_hash_is_argon2id_and_salted():
    a, b = passwords.hash_password("correct horse 1"), passwords.hash_password("correct horse 1")
    assert a.startswith("$argon2id$") and b.startswith("$argon2id$")
    assert a != b                                   # random salt
    assert "correct horse" not in a


def test_verify_accepts_right_and_refuses_wrong_or_garbage():
    h = passwords.hash_password("correct horse 1")
    assert passwords.verify_password(h, "correct horse 1")
    assert not passwords.verify_password(h, "correct horse 2")
    assert not passwords.verify_password("not-a-hash", "x")


def test_password_rules():
    assert passwords.password_problem("short1") == "must have at least 12 characters"
    assert passwords.password_problem("abcdefghijk") is not None   # letters only, too short
    assert passwords.password_problem("12345678901") is not None   # digits only, too short
    assert passwords.password_problem("x" * 201 + "1") is not None
    assert passwords.password_problem("good-pass-2026") is None


def test_common_passwords_and_the_username_are_refused():
    assert len(passwords.common_passwords()) >= 10_000          # shipped in the package
    for weak in ("password1234", "Password2024!", "qwertyuiop12", "123456789012",
                 "iloveyou2023", "aaaaaaaaaaaa", "1q2w3e4r5t6y", "Monkey123456!"):
        assert "common" in passwords.password_problem(weak), weak
    assert passwords.password_problem("zhang.wei-Harbor-77", "zhang.wei") == \
        "must not contain the username"
    assert passwords.password_problem("Harbor-lantern-77", "zhang.wei") is None


def test_default_cost_is_not_the_fast_test_profile(monkeypatch):
    monkeypatch.delenv("SHEBAO_ARGON2_FAST", raising=False)
    h = passwords.hash_password("correct horse 1")
    assert "m=65536,t=3" in h                       # RFC 9106 low-memory profile
    monkeypatch.setenv("SHEBAO_ARGON2_FAST", "1")
    assert passwords.needs_rehash(h) is True        # cheaper profile differs …
    monkeypatch.delenv("SHEBAO_ARGON2_FAST")
    fast = passwords._FAST.hash("correct horse 1")
    assert passwords.needs_rehash(fast) is True     # … and a fast hash is upgraded at login


def test_at_most_the_configured_number_of_hashes_run_at_once(monkeypatch):
    """A storm of sign-ins queues for the hasher (64 MiB each) instead of growing memory."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    running, peak, lock = 0, 0, threading.Lock()
    real = passwords._DEFAULT.verify

    def watched(h, p):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        try:
            return real(h, p)
        finally:
            with lock:
                running -= 1
    h = passwords.hash_password("correct horse 1")
    monkeypatch.setattr(passwords, "_DEFAULT", type("Watched", (), {
        "verify": staticmethod(watched)})())
    monkeypatch.setenv("SHEBAO_HASH_CONCURRENCY", "2")
    passwords._slots = None                       # re-read the setting
    with ThreadPoolExecutor(16) as ex:
        list(ex.map(lambda _: passwords.verify_password(h, "x"), range(32)))
    assert peak == 2
    passwords._slots = None
