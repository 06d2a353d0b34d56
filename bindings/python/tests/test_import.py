"""What works with neither torch nor libconvgemm.so: importing, argument rules, finding the
library."""
import subprocess
import sys

import pytest

import convgemm
from convgemm import _args, _lib
from conftest import PYTHON_DIR


def test_import_without_torch():
    # `torch` set to None in sys.modules makes any `import torch` fail, as on a machine without it.
    code = ("import sys; sys.modules['torch'] = None\n"
            "import convgemm\n"
            "assert convgemm.Status.BAD_STRIDE == 5 and convgemm.Algorithm.AUTO == 3\n"
            "try:\n"
            "    convgemm.conv2d\n"
            "except ImportError:\n"
            "    print('lazy')\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=PYTHON_DIR, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "lazy"


def test_unknown_attribute():
    with pytest.raises(AttributeError):
        convgemm.no_such_thing


def test_env_var_to_missing_file(monkeypatch, tmp_path):
    monkeypatch.setenv(_lib.ENV_VAR, str(tmp_path / "libconvgemm.so"))
    with pytest.raises(convgemm.LibraryNotFoundError, match="CONVGEMM_LIBRARY"):
        _lib.find_library()


def test_env_var_wins(monkeypatch, tmp_path):
    fake = tmp_path / "libconvgemm.so"
    fake.write_bytes(b"")
    monkeypatch.setenv(_lib.ENV_VAR, str(fake))
    assert _lib.find_library() == fake


def test_repo_search_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv(_lib.ENV_VAR, raising=False)
    monkeypatch.setattr(_lib, "_REPO_ROOT", tmp_path)
    with pytest.raises(OSError, match="CONVGEMM_LIBRARY.*bazel build //conv:libconvgemm.so"):
        _lib.find_library()


def test_repo_search_order(monkeypatch, tmp_path):
    monkeypatch.delenv(_lib.ENV_VAR, raising=False)
    monkeypatch.setattr(_lib, "_REPO_ROOT", tmp_path)
    carried = tmp_path / ".carry/bin/libconvgemm.so"
    carried.parent.mkdir(parents=True)
    carried.write_bytes(b"")
    assert _lib.find_library() == carried
    built = tmp_path / "bazel-bin/conv/libconvgemm.so"
    built.parent.mkdir(parents=True)
    built.write_bytes(b"")
    assert _lib.find_library() == built


def test_repo_root_is_the_checkout():
    assert (_lib._REPO_ROOT / "conv" / "convgemm.h").is_file()


@pytest.mark.parametrize("value, expected", [(3, (3, 3)), ((1, 2), (1, 2)), ([4], (4, 4))])
def test_pair(value, expected):
    assert _args.pair("stride", value) == expected


@pytest.mark.parametrize("value", [(1, 2, 3), ()])
def test_pair_bad_length(value):
    with pytest.raises(ValueError, match="stride"):
        _args.pair("stride", value)


@pytest.mark.parametrize("value", [1.5, "2", True])
def test_pair_bad_type(value):
    with pytest.raises(TypeError, match="stride"):
        _args.pair("stride", value)


@pytest.mark.parametrize("padding, kernel, dilation, expected", [
    ("valid", (3, 3), (1, 1), (0, 0, 0, 0)),
    ("same", (3, 3), (1, 1), (1, 1, 0, 0)),
    ("same", (5, 3), (1, 1), (2, 1, 0, 0)),
    ("same", (3, 3), (2, 3), (2, 3, 0, 0)),
    # even extents: PyTorch puts total // 2 on the top/left and one more on the bottom/right
    ("same", (4, 2), (1, 1), (1, 0, 1, 1)),
    ("same", (2, 2), (3, 1), (1, 0, 1, 1)),
    (2, (3, 3), (1, 1), (2, 2, 0, 0)),
    ((1, 2), (3, 3), (1, 1), (1, 2, 0, 0)),
])
def test_resolve_padding(padding, kernel, dilation, expected):
    assert _args.resolve_padding(padding, kernel, (1, 1), dilation) == expected


def test_same_with_stride_refused():
    with pytest.raises(ValueError, match="strided"):
        _args.resolve_padding("same", (3, 3), (2, 1), (1, 1))


def test_unknown_padding_string():
    with pytest.raises(ValueError, match="valid"):
        _args.resolve_padding("full", (3, 3), (1, 1), (1, 1))
