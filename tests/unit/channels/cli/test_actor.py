"""The CLI's credentials file: read only when it is the current user's own, private file."""
import os

import pytest

from shebao.channels.cli.actor import CliAuthError, read_credentials
from tests.support.accounts import write_credentials


def test_reads_username_password_lines(tmp_path):
    p = write_credentials(tmp_path / "c", {"clerk-a": "pw:with:colons", "clerk-b": "x y"})
    assert read_credentials(p) == {"clerk-a": "pw:with:colons", "clerk-b": "x y"}


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606])
def test_refuses_a_file_others_may_read_or_write(tmp_path, mode):
    p = write_credentials(tmp_path / "c", {"clerk-a": "secret"}, mode=mode)
    with pytest.raises(CliAuthError, match="chmod 600"):
        read_credentials(p)


def test_accepts_0400(tmp_path):
    p = write_credentials(tmp_path / "c", {"clerk-a": "secret"}, mode=0o400)
    assert read_credentials(p) == {"clerk-a": "secret"}


def test_refuses_another_users_file(tmp_path):
    if os.getuid() != 0:
        pytest.skip("changing a file's owner needs root")
    p = write_credentials(tmp_path / "c", {"clerk-a": "secret"})
    os.chown(p, 65534, 65534)
    with pytest.raises(CliAuthError, match="not owned by you"):
        read_credentials(p)


def test_refuses_a_malformed_line_naming_it(tmp_path):
    p = tmp_path / "c"
    p.write_text("# comment\n\nclerk-a\n")
    os.chmod(p, 0o600)
    with pytest.raises(CliAuthError, match="line 3"):
        read_credentials(p)


def test_missing_file_and_directories_are_refused(tmp_path):
    with pytest.raises(CliAuthError, match="does not exist"):
        read_credentials(tmp_path / "nope")
    d = tmp_path / "dir"
    d.mkdir(mode=0o700)
    with pytest.raises(CliAuthError, match="not a regular file"):
        read_credentials(d)
