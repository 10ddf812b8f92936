"""Shared fixtures: the project root and the published statistics."""

import pytest

from microcalc.paths import project_root
from microcalc.published import load_published


@pytest.fixture(scope="session")
def root():
    return project_root()


@pytest.fixture(scope="session")
def published():
    return load_published()
