"""Shared fixtures: worlds are expensive to make, so each is made once per test session."""
import pytest

from course import world as world_module


@pytest.fixture(scope="session")
def tiny_world():
    return world_module.generate("tiny")


@pytest.fixture(scope="session")
def small_world():
    return world_module.load("small")
