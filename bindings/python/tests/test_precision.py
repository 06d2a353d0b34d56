"""math_mode() against PyTorch's TF32 settings for cuDNN convolutions (CPU: only flags are read)."""
import pytest

torch = pytest.importorskip("torch")

from convgemm import MathMode, math_mode  # noqa: E402

NEW_API = hasattr(torch.backends.cudnn, "conv")


def test_default_is_tf32(restore_flags):
    torch.backends.cudnn.allow_tf32 = True
    assert math_mode() == MathMode.DEFAULT


def test_legacy_flag_off(restore_flags):
    torch.backends.cudnn.allow_tf32 = False
    assert math_mode() == MathMode.IEEE


def test_flags_context_manager(restore_flags):
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
        assert math_mode() == MathMode.IEEE
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=True):
        assert math_mode() == MathMode.DEFAULT


@pytest.mark.skipif(not NEW_API, reason="torch < 2.9 has no cudnn.conv.fp32_precision")
@pytest.mark.parametrize("conv, cudnn_all, generic, expected", [
    ("ieee", "none", "none", MathMode.IEEE),
    ("tf32", "none", "none", MathMode.DEFAULT),
    # 'none' inherits: cuda/conv -> cuda/all -> generic/all, as ATen resolves it
    ("none", "tf32", "none", MathMode.DEFAULT),
    ("none", "ieee", "tf32", MathMode.IEEE),
    ("none", "none", "tf32", MathMode.DEFAULT),
    ("none", "none", "none", MathMode.IEEE),
])
def test_fp32_precision(restore_flags, conv, cudnn_all, generic, expected):
    # Parents first: setting one rewrites its children.
    torch.backends.fp32_precision = generic
    torch.backends.cudnn.fp32_precision = cudnn_all
    torch.backends.cudnn.conv.fp32_precision = conv
    assert math_mode() == expected


@pytest.mark.skipif(not NEW_API, reason="torch < 2.9 has no cudnn.conv.fp32_precision")
def test_mixed_apis_do_not_raise(restore_flags):
    # Reading torch.backends.cudnn.allow_tf32 raises once conv and rnn differ; math_mode must not.
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.conv.fp32_precision = "ieee"
    assert math_mode() == MathMode.IEEE
