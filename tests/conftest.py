"""Shared fixtures: the model, and small runs reused across tests."""

import pytest

import refuge
from refuge.model.timeline import Timeline


@pytest.fixture(scope="session")
def model():
    return refuge.north_korea()


@pytest.fixture(scope="session")
def short():
    """1990-2012: long enough for every mechanism to act, short enough to be quick."""
    return Timeline(1990, 2012)
