import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "registry"


@pytest.fixture
def fixture_file(tmp_path):
    """Copy a fixture into tmp_path (imports write their error file beside the input)."""
    def get(name: str) -> Path:
        dst = tmp_path / name
        shutil.copy(FIXTURES / name, dst)
        return dst
    return get
