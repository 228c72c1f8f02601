"""Shared fixtures: worlds are expensive to make, so each is made once per test session."""
import pytest
import torch

from course import world as world_module

# Screenshots and other files that tests write (tests/test_browser_widgets.py): never collected,
# not even a notebook or a .py file left there, by nbval or --doctest-modules.
collect_ignore = ["artifacts"]


@pytest.fixture(scope="session")
def tiny_world():
    return world_module.generate("tiny")


@pytest.fixture(scope="session")
def small_world():
    return world_module.load("small")


@pytest.fixture(autouse=True)
def one_thread():
    """Torch on one thread in every test: the models are tiny, and several threads on a shared
    machine only add contention (and can change the order of floating-point sums)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
