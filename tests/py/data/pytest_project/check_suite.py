"""Every kind of outcome, so that the plugin can be seen not to change any."""
import pytest

from slowmod import block_function, medium_function, slow_function


def test_slow():
    assert slow_function() > 0


def test_medium():
    assert medium_function() > 0


@pytest.mark.parametrize("n", [1, 2, 3])
def test_fast(n):
    assert sum(range(n)) >= 0


def test_fails():
    assert sum(range(3)) == 4


def test_skipped():
    pytest.skip("not today")


@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert False


@pytest.mark.xfail(reason="fixed already")
def test_xpass():
    assert True


@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")


def test_error(broken):
    pass


def test_block(spyglass_profile):
    sum(range(1000))
    with spyglass_profile() as p:
        block_function()
    names = {f[0] for f in p.profile.to_dict()["functions"]}
    assert "block_function" in names
