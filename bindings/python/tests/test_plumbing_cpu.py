"""conv2d's translation of F.conv2d's arguments into a convgemm descriptor, checked on the CPU:
the launch is replaced by F.conv2d run with the parameters read back from the real descriptor,
so every case of the matrix must reproduce F.conv2d exactly. Needs torch and libconvgemm.so
(descriptors are host objects), no GPU."""
import ctypes

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

import convgemm  # noqa: E402
from convgemm import _lib, functional  # noqa: E402
from conv_cases import CASES, make_case  # noqa: E402


@pytest.fixture
def cpu_launch(lib, monkeypatch):
    """conv2d on CPU tensors, with F.conv2d standing in for convgemm_forward."""
    launches = []

    def launch(desc, algo, x, weight, bias, y):
        p = _lib.Conv2dParams()
        _lib.call("convgemm_conv_desc_get_params", desc.ptr, ctypes.byref(p))
        assert (p.n, p.c, p.h, p.w) == tuple(x.shape) and (p.k, p.r, p.s) == \
            (weight.shape[0], *weight.shape[2:])
        assert bool(p.has_bias) == (bias is not None)
        assert x.is_contiguous() and weight.is_contiguous()
        y.copy_(F.conv2d(x, weight, bias, (p.stride_h, p.stride_w), (p.pad_h, p.pad_w),
                         (p.dilation_h, p.dilation_w), p.groups))
        launches.append((p, algo))

    monkeypatch.setattr(functional, "_check_devices", lambda named: None)
    monkeypatch.setattr(functional, "_launch", launch)
    return launches


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("case", list(CASES))
def test_descriptor_reproduces_f_conv2d(cpu_launch, case):
    x, w, b, kwargs = make_case(*CASES[case], "cpu")
    y = convgemm.conv2d(x, w, b, **kwargs)
    assert torch.equal(y, F.conv2d(x, w, b, **kwargs))
    assert len(cpu_launch) == 1


def test_math_mode_read_at_call_time(cpu_launch, restore_flags):
    x, w, b, kwargs = make_case(*CASES["base_3x3"], "cpu")
    for allow, mode in ((True, convgemm.MathMode.DEFAULT), (False, convgemm.MathMode.IEEE)):
        torch.backends.cudnn.allow_tf32 = allow
        convgemm.conv2d(x, w, b, **kwargs)
        assert cpu_launch[-1][0].math_mode == mode


def test_algorithm_passed_through(cpu_launch):
    x, w, b, kwargs = make_case(*CASES["base_3x3"], "cpu")
    for name, algo in functional.ALGORITHMS.items():
        convgemm.conv2d(x, w, b, algorithm=name, **kwargs)
        assert cpu_launch[-1][1] == algo


def test_channels_last_and_non_contiguous(cpu_launch):
    x, w, b, _ = make_case(*CASES["bias"], "cpu")
    y = convgemm.conv2d(x.to(memory_format=torch.channels_last), w, b)
    assert torch.equal(y, F.conv2d(x, w, b))
    wide = torch.rand(2, 8, 13, 34)
    assert torch.equal(convgemm.conv2d(wide[..., ::2], w), F.conv2d(wide[..., ::2], w))


def test_empty_batch_needs_no_launch(cpu_launch):
    y = convgemm.conv2d(torch.rand(0, 8, 13, 17), torch.rand(16, 8, 3, 3), padding=1)
    assert y.shape == (0, 16, 13, 17) and not cpu_launch


def test_autograd_records_a_forward_only_node(cpu_launch):
    layer = convgemm.nn.Conv2d(8, 16, 3)
    y = layer(torch.rand(1, 8, 9, 9))
    assert y.grad_fn is not None
    with pytest.raises(NotImplementedError, match="forward only"):
        y.sum().backward()
    with torch.no_grad():
        assert layer(torch.rand(1, 8, 9, 9)).grad_fn is None
