"""Shared fixtures: the project root and the published statistics."""

import numpy as np
import pandas as pd
import pytest

from microcalc.core.paths import project_root
from microcalc.abstract.published import load_published


@pytest.fixture(scope="session")
def root():
    return project_root()


@pytest.fixture(scope="session")
def published():
    return load_published()


@pytest.fixture
def glm_data():
    """The small fixed data set of the R references (see test_models_against_R.py)."""
    i = np.arange(80)
    return pd.DataFrame({
        "y": pd.array(((i * 13) % 7 < 3) | (i % 5 == 0), dtype="boolean"),
        "f": pd.Categorical(np.array(["a", "b", "c"])[i % 3], categories=["a", "b", "c"]),
        "x": ((i * 7) % 11) / 10,
        "b": pd.array((i * 3) % 4 == 1, dtype="boolean"),
    })


@pytest.fixture
def inference_data(glm_data):
    """glm_data with 4 centres ``g`` of 20 patients, ``b`` as boolean and a yes/no ``z`` missing for every 6th."""
    i = np.arange(80)
    d = glm_data.assign(g=(i // 20).astype(str), b=glm_data["b"].astype("boolean"),
                        z=pd.array((i * 3) % 7 < 3, dtype="boolean"))
    d.loc[i % 6 == 0, "z"] = pd.NA
    return d
