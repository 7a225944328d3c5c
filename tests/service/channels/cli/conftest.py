"""The command-line tests: ``engine`` is an empty, migrated database again (the channel suites'
conftest makes it the sample world); tests that want the world ask for ``world_engine``."""
import shutil
from pathlib import Path

import pytest

from shebao.db.engine import make_engine

REGISTRY_FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "registry"


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def fixture_file(tmp_path):
    """Copy a registry fixture into tmp_path (imports write their error file beside the input)."""
    def get(name: str) -> Path:
        dst = tmp_path / name
        shutil.copy(REGISTRY_FIXTURES / name, dst)
        return dst
    return get
