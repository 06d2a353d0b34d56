"""convgemm.nn.Conv2d and the problem-55 module on the CPU (torch only, no library or GPU):
construction identical to nn.Conv2d's, state_dict compatibility, argument errors raised before
anything reaches the library."""
import ast
import pathlib

import pytest

torch = pytest.importorskip("torch")

import convgemm.nn  # noqa: E402
from convgemm import level1_55  # noqa: E402
from conftest import PYTHON_DIR  # noqa: E402

PROBLEM_FILE = PYTHON_DIR.parents[2] / "shared" / "problem" / "level1_55.py"


def test_model_new_parameters_identical_under_seed():
    init = level1_55.get_init_inputs()
    torch.manual_seed(42)
    model = level1_55.Model(*init)
    torch.manual_seed(42)
    model_new = level1_55.ModelNew(*init)
    ref, new = model.state_dict(), model_new.state_dict()
    assert list(ref) == list(new) == ["conv2d.weight"]
    assert all(torch.equal(ref[k], new[k]) for k in ref)
    assert isinstance(model_new.conv2d, torch.nn.Conv2d)


@pytest.mark.parametrize("kwargs", [
    dict(stride=2, padding=1, bias=True),
    dict(padding="same", dilation=2, groups=2),
    dict(stride=(2, 1), padding=(1, 2), groups=4, bias=True),
])
def test_conv2d_constructed_like_nn_conv2d(kwargs):
    torch.manual_seed(7)
    ref = torch.nn.Conv2d(8, 16, (3, 5), **kwargs)
    torch.manual_seed(7)
    new = convgemm.nn.Conv2d(8, 16, (3, 5), **kwargs)
    assert ref.state_dict().keys() == new.state_dict().keys()
    assert all(torch.equal(ref.state_dict()[k], new.state_dict()[k]) for k in ref.state_dict())
    assert (ref.stride, ref.padding, ref.dilation, ref.groups) == \
        (new.stride, new.padding, new.dilation, new.groups)


def test_state_dict_round_trip():
    init = [8, 16, 3, 1, 1, 1, 2, True]
    torch.manual_seed(1)
    model = level1_55.Model(*init)
    model_new = level1_55.ModelNew(*init)  # different draws
    model_new.load_state_dict(model.state_dict(), strict=True)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                 model_new.state_dict().values()))
    back = level1_55.Model(*init)
    back.load_state_dict(model_new.state_dict(), strict=True)
    assert torch.equal(back.conv2d.bias, model.conv2d.bias)


def _definitions(source):
    """Top-level classes, functions and assignments by name, as AST dumps."""
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            out[node.name] = ast.dump(node)
        elif isinstance(node, ast.Assign):
            out[node.targets[0].id] = ast.dump(node)
    return out


def test_model_matches_the_problem_file():
    if not PROBLEM_FILE.is_file():
        pytest.skip(f"{PROBLEM_FILE} not in this checkout")
    problem = _definitions(PROBLEM_FILE.read_text())
    ours = _definitions(pathlib.Path(level1_55.__file__).read_text())
    assert set(problem) == {"Model", "batch_size", "height", "width", "in_channels",
                            "out_channels", "kernel_size", "get_inputs", "get_init_inputs"}
    assert {name: ours.get(name) for name in problem} == problem


def test_cpu_input_refused():
    layer = convgemm.nn.Conv2d(4, 8, 3)
    with pytest.raises(ValueError, match="CUDA"):
        layer(torch.rand(1, 4, 8, 8))


def test_float64_refused():
    layer = convgemm.nn.Conv2d(4, 8, 3).double()
    with pytest.raises(TypeError, match="convgemm supports float32, float16 and bfloat16, got "
                                        "input of dtype torch.float64"):
        layer(torch.rand(1, 4, 8, 8, dtype=torch.float64))


def test_padding_mode_refused():
    layer = convgemm.nn.Conv2d(4, 8, 3, padding=1, padding_mode="reflect")
    with pytest.raises(NotImplementedError, match="padding_mode='zeros'"):
        layer(torch.rand(1, 4, 8, 8))


def test_algorithm_name_checked():
    with pytest.raises(ValueError, match="im2col_gemm"):
        convgemm.conv2d(torch.rand(1, 4, 8, 8), torch.rand(8, 4, 3, 3), algorithm="fft")


def test_repr_names_a_chosen_algorithm():
    assert "algorithm='direct'" in repr(convgemm.nn.Conv2d(4, 8, 3, algorithm="direct"))
    assert "algorithm" not in repr(convgemm.nn.Conv2d(4, 8, 3))
