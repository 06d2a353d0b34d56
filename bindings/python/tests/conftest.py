"""Shared fixtures. Tests that need torch, libconvgemm.so or a CUDA GPU skip, with the reason,
where those are missing, so the suite stays green on a CPU-only machine."""
import pathlib
import sys

import pytest

PYTHON_DIR = pathlib.Path(__file__).resolve().parents[1]
TESTS_DIR = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(PYTHON_DIR))  # `import convgemm` without PYTHONPATH

import convgemm  # noqa: E402  (needs the path above)

SMALL_PROBLEM = TESTS_DIR / "problems" / "small_conv2d.py"
WRONG_SOLUTIONS = TESTS_DIR / "wrong_solutions"
SOLUTION_55 = PYTHON_DIR / "convgemm" / "level1_55.py"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: evaluates at problem-55 size or runs torch.compile (minutes); "
                   "deselect with -m 'not slow'")


@pytest.fixture(scope="session")
def lib():
    try:
        return convgemm._lib.load()
    except OSError as e:
        pytest.skip(f"libconvgemm.so not available: {e}")


@pytest.fixture(scope="session")
def cuda(lib):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    return torch.device("cuda", torch.cuda.current_device())


@pytest.fixture
def restore_flags():
    """Puts PyTorch's numerics flags back after a test that changes them."""
    pytest.importorskip("torch")
    from convgemm import _checks

    before = _checks.snapshot_flags()
    yield
    _checks.restore_flags(before)
