"""convgemm.conv2d against F.conv2d on the GPU: a configuration matrix in both TF32 settings at
KernelBench's allclose(1e-4, 1e-4), the same matrix in float16 and bfloat16 (against a float64
reference of the 16-bit inputs with the one-rounding bound, and against F.conv2d in the same dtype
at KernelBench's 16-bit allclose(1e-2, 1e-2)), then error propagation, layouts, streams and
threads."""
import math
import threading

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

import convgemm  # noqa: E402
from convgemm import ConvgemmError, Status, _resources, functional  # noqa: E402
from conv_cases import CASES, make_case  # noqa: E402

TOL = 1e-4

def reference(x, w, b, kwargs, tf32):
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=tf32):
        return F.conv2d(x, w, b, **kwargs)


def max_abs(a, b):
    return (a - b).abs().max().item()


@pytest.mark.parametrize("algorithm", ["auto", "direct", "im2col_gemm"])
@pytest.mark.parametrize("tf32", [True, False], ids=["tf32", "ieee"])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_f_conv2d(cuda, restore_flags, case, tf32, algorithm):
    x, w, b, kwargs = make_case(*CASES[case], cuda)
    ref = reference(x, w, b, kwargs, tf32)
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=tf32):
        try:
            y = convgemm.conv2d(x, w, b, algorithm=algorithm, **kwargs)
        except ConvgemmError as e:
            if e.status == Status.NOT_SUPPORTED and algorithm != "auto":
                pytest.skip(f"{algorithm}: {e.message}")
            raise
    torch.cuda.synchronize()
    assert y.shape == ref.shape and y.dtype == ref.dtype and y.device == ref.device
    if torch.allclose(y, ref, atol=TOL, rtol=TOL):
        return
    if tf32:
        # cuDNN may run an fp32 kernel although TF32 is allowed (grouped, depthwise, small
        # channel counts: README, Numerics); then PyTorch's output is fp32-exact and convgemm's
        # TF32 rounding is the only difference. That is a known, documented difference.
        fp32 = reference(x, w, b, kwargs, False)
        if max_abs(ref, fp32) < 1e-6:
            pytest.xfail(f"cuDNN ran fp32 with TF32 allowed; convgemm DEFAULT differs by "
                         f"{max_abs(y, ref):.2e}")
    pytest.fail(f"max abs diff {max_abs(y, ref):.3e} exceeds allclose({TOL}, {TOL})")


def test_problem_55_layer_small_input_matches(cuda):
    torch.manual_seed(0)
    layer = convgemm.nn.Conv2d(64, 128, 3).to(cuda)
    ref = torch.nn.Conv2d(64, 128, 3).to(cuda)
    ref.load_state_dict(layer.state_dict())
    x = torch.rand(2, 64, 40, 72, device=cuda)
    with torch.no_grad():
        assert torch.allclose(layer(x), ref(x), atol=TOL, rtol=TOL)


def test_channels_last_and_strided_inputs(cuda, restore_flags):
    # Layout must not change the numbers: the same bits as contiguous input in the default mode,
    # and F.conv2d's result in fp32 (at this size cuDNN's TF32 setting may run fp32 kernels).
    x, w, b, kwargs = make_case((2, 8, 13, 17), (16, 8, 3, 3), dict(bias=True), cuda)
    y = convgemm.conv2d(x.to(memory_format=torch.channels_last),
                        w.to(memory_format=torch.channels_last), b)
    assert y.is_contiguous() and torch.equal(y, convgemm.conv2d(x, w, b))
    wide = torch.rand(2, 8, 13, 34, device=cuda)
    sliced = wide[..., ::2]
    assert torch.equal(convgemm.conv2d(sliced, w), convgemm.conv2d(sliced.contiguous(), w))
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
        y = convgemm.conv2d(x.to(memory_format=torch.channels_last),
                            w.to(memory_format=torch.channels_last), b)
        assert torch.allclose(y, F.conv2d(x, w, b), atol=TOL, rtol=TOL)
        assert torch.allclose(convgemm.conv2d(sliced, w), F.conv2d(sliced, w), atol=TOL,
                              rtol=TOL)


def test_empty_batch(cuda):
    y = convgemm.conv2d(torch.rand(0, 8, 13, 17, device=cuda), torch.rand(16, 8, 3, 3,
                                                                          device=cuda))
    assert y.shape == (0, 16, 11, 15)


def test_runs_on_the_current_stream(cuda):
    x0, w, _, _ = make_case((2, 8, 13, 17), (16, 8, 3, 3), {}, cuda)
    ref = convgemm.conv2d(x0, w)  # same math mode: the same bits when x is read after it is written
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        # x is written on `side` after a long sleep: a launch anywhere but `side` reads it early.
        torch.cuda._sleep(20_000_000)
        x = x0 * 1.0
        y = convgemm.conv2d(x, w)
    side.synchronize()
    assert torch.equal(y, ref)


def test_threads_get_their_own_handles(cuda):
    x, w, b, _ = make_case((2, 64, 20, 33), (128, 64, 3, 3), dict(bias=True), cuda)
    ref = F.conv2d(x, w, b)
    torch.cuda.synchronize()
    errors, handles = [], set()
    # Every thread keeps its handle until all have made theirs (a finished thread's handle is
    # released, and a later one could get the same address).
    barrier = threading.Barrier(4)

    def work():
        try:
            for _ in range(5):
                y = convgemm.conv2d(x, w, b)
                torch.cuda.current_stream().synchronize()
                if not torch.allclose(y, ref, atol=TOL, rtol=TOL):
                    errors.append(f"mismatch {max_abs(y, ref):.2e}")
            handles.add(_resources.handle(cuda.index).ptr.value)
        except Exception as e:  # reported below, with the thread's error
            errors.append(repr(e))
        finally:
            barrier.wait()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(handles) == 4


def test_workspace_is_aligned(cuda):
    for nbytes in (1, 1000, 1 << 20):
        assert functional._workspace(nbytes, cuda).data_ptr() % 256 == 0
    assert functional._workspace(0, cuda) is None


def test_workspace_too_small_reported(cuda):
    x, w, _, _ = make_case((2, 64, 20, 33), (128, 64, 3, 3), {}, cuda)
    key = (2, 64, 20, 33, 128, 3, 3, 0, 0, 1, 1, 1, 1, 1, 0, int(convgemm.DataType.FLOAT32),
           int(convgemm.math_mode()))
    d = _resources.descriptor(key)
    h = _resources.handle(cuda.index)
    minimum, preferred = _resources.workspace_size(h, d, convgemm.Algorithm.IM2COL_GEMM)
    assert 0 < minimum <= preferred
    y = torch.empty(d.output_shape, device=cuda)
    with pytest.raises(ConvgemmError) as info:
        _resources.forward(h, d, convgemm.Algorithm.IM2COL_GEMM, x.data_ptr(), w.data_ptr(), None,
                           y.data_ptr(), None, 0, torch.cuda.current_stream().cuda_stream)
    assert info.value.status == Status.WORKSPACE_TOO_SMALL and info.value.message


def test_backward_refused(cuda):
    layer = convgemm.nn.Conv2d(8, 16, 3).to(cuda)
    y = layer(torch.rand(1, 8, 9, 9, device=cuda))
    assert y.requires_grad
    with pytest.raises(NotImplementedError, match="forward only"):
        y.sum().backward()


@pytest.mark.parametrize("make, error, match", [
    (lambda d: (torch.rand(1, 8, 9, 9, device=d, dtype=torch.float64),
                torch.rand(16, 8, 3, 3, device=d), {}), TypeError,
     "float32, float16 and bfloat16, got input of dtype torch.float64"),
    (lambda d: (torch.rand(1, 8, 9, 9, device=d),
                torch.rand(16, 8, 3, 3, device=d, dtype=torch.float16), {}), TypeError,
     "one dtype: input is torch.float32, weight is torch.float16"),
    (lambda d: (torch.rand(1, 8, 9, 9, device=d, dtype=torch.bfloat16),
                torch.rand(16, 8, 3, 3, device=d, dtype=torch.bfloat16),
                dict(bias=torch.rand(16, device=d, dtype=torch.float16))), TypeError,
     "one dtype: input is torch.bfloat16, bias is torch.float16"),
    (lambda d: (torch.rand(1, 8, 9, 9), torch.rand(16, 8, 3, 3, device=d), {}), ValueError,
     "CUDA"),
    (lambda d: (torch.rand(1, 8, 9, 9, device=d), torch.rand(16, 8, 3, 3, device=d),
                dict(bias=torch.rand(16))), ValueError, "CUDA"),
    (lambda d: (torch.rand(8, 9, device=d), torch.rand(16, 8, 3, 3, device=d), {}), ValueError,
     "3D"),
    (lambda d: (torch.rand(1, 8, 9, 9, device=d), torch.rand(16, 3, 3, 3, device=d),
                dict(groups=2)), ValueError, "Given groups=2"),
    (lambda d: (torch.rand(1, 8, 9, 9, device=d), torch.rand(16, 8, 3, 3, device=d),
                dict(bias=torch.rand(8, device=d))), ValueError, "bias"),
    (lambda d: (torch.rand(1, 8, 9, 9, device=d), torch.rand(16, 8, 3, 3, device=d),
                dict(padding="same", stride=2)), ValueError, "strided"),
    (lambda d: (torch.rand(1, 8, 9, 9, device=d), torch.rand(16, 8, 3, 3, device=d),
                dict(algorithm="fft")), ValueError, "algorithm"),
])
def test_argument_errors(cuda, make, error, match):
    x, w, kwargs = make(cuda)
    with pytest.raises(error, match=match):
        convgemm.conv2d(x, w, **kwargs)


@pytest.mark.parametrize("weight_shape, kwargs, status", [
    ((6, 2, 3, 3), dict(groups=4), Status.BAD_GROUPS),
    ((16, 8, 3, 3), dict(stride=0), Status.BAD_STRIDE),
    ((16, 8, 3, 3), dict(padding=-1), Status.BAD_PADDING),
    ((16, 8, 3, 3), dict(dilation=(1, 0)), Status.BAD_DILATION),
    ((16, 8, 11, 3), {}, Status.FILTER_TOO_LARGE),
])
def test_library_errors_propagate(cuda, weight_shape, kwargs, status):
    x = torch.rand(1, 8, 9, 9, device=cuda)
    with pytest.raises(ConvgemmError) as info:
        convgemm.conv2d(x, torch.rand(weight_shape, device=cuda), **kwargs)
    e = info.value
    assert e.status == status and e.status_name == f"CONVGEMM_STATUS_{status.name}"
    assert e.message and e.message in str(e)


def test_implicit_gemm_matches_direct_and_refuses_ieee(cuda, restore_flags):
    # Both compute with TF32 operands in the default mode (at this size cuDNN may run fp32
    # kernels, so F.conv2d is not the reference here); IMPLICIT_GEMM has no fp32 mode.
    x, w, _, _ = make_case((1, 8, 9, 9), (16, 8, 3, 3), {}, cuda)
    torch.backends.cudnn.allow_tf32 = True
    y = convgemm.conv2d(x, w, algorithm="implicit_gemm")
    assert torch.allclose(y, convgemm.conv2d(x, w, algorithm="direct"), atol=TOL, rtol=TOL)
    torch.backends.cudnn.allow_tf32 = False
    with pytest.raises(ConvgemmError) as e:
        convgemm.conv2d(x, w, algorithm="implicit_gemm")
    assert e.value.status == Status.NOT_SUPPORTED and "IEEE" in e.value.message


def test_auto_algorithm(cuda, restore_flags):
    torch.backends.cudnn.allow_tf32 = True
    dense = make_case((2, 64, 20, 33), (128, 64, 3, 3), {}, cuda)
    depthwise = make_case((2, 8, 13, 17), (8, 1, 3, 3), dict(groups=8), cuda)
    # README: AUTO picks IM2COL_GEMM for K/G >= 32 and (C/G)*R*S >= 64 in DEFAULT math where
    # IMPLICIT_GEMM does not apply (here Q = 31, below its 32-column minimum).
    assert functional.auto_algorithm(dense[0], dense[1]) == "im2col_gemm"
    assert functional.auto_algorithm(depthwise[0], depthwise[1], groups=8) == "direct"


# ---- float16 and bfloat16 ------------------------------------------------------------------------

# Unit roundoff of one rounding to the type, and half its smallest subnormal (tests/conv_compare.h).
UNIT_ROUNDOFF = {torch.float16: 2.0 ** -11, torch.bfloat16: 2.0 ** -8}
SUBNORMAL_HALF_STEP = {torch.float16: 2.0 ** -25, torch.bfloat16: 2.0 ** -134}
TOL_16BIT = 1e-2  # KernelBench's allclose tolerance for 16-bit outputs


def check_16bit(y, x, w, b, kwargs, dtype):
    """y (dtype) against a float64 convolution of the same 16-bit inputs: one rounding of the
    output plus the fp32 accumulation, |y - ref| <= u |ref| + (1 + u) gamma_n(2^-24) S + eta with
    S = sum |x w| (+ |b|) and n = C/G*R*S + 1 (the C tests' bound, conv_compare.h)."""
    xd, wd = x.double(), w.double()
    bd = b.double() if b is not None else None
    ref = F.conv2d(xd, wd, bd, **kwargs)
    abs_sum = F.conv2d(xd.abs(), wd.abs(), bd.abs() if bd is not None else None, **kwargs)
    n = math.prod(w.shape[1:]) + 1
    gamma = n * 2.0 ** -24 / (1 - n * 2.0 ** -24) + n * 2.0 ** -53 / (1 - n * 2.0 ** -53)
    accumulation = gamma * abs_sum + n * 2.0 ** -149
    u = UNIT_ROUNDOFF[dtype]
    bound = u * ref.abs() + (1 + u) * accumulation + SUBNORMAL_HALF_STEP[dtype]
    err = (y.double() - ref).abs()
    assert not torch.isnan(y).any(), "NaN in the output (an unwritten element?)"
    worst = (err / bound).max().item()
    assert worst <= 1.0, f"max |y - ref| / bound = {worst:.3g} (max |diff| {err.max().item():.3g})"


@pytest.mark.parametrize("algorithm", ["auto", "direct", "im2col_gemm", "implicit_gemm"])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["fp16", "bf16"])
@pytest.mark.parametrize("case", list(CASES))
def test_16bit_matches_float64_and_f_conv2d(cuda, case, dtype, algorithm):
    x, w, b, kwargs = make_case(*CASES[case], cuda)
    x, w = x.to(dtype), w.to(dtype)
    b = b.to(dtype) if b is not None else None
    y = convgemm.conv2d(x, w, b, algorithm=algorithm, **kwargs)
    torch.cuda.synchronize()
    ref = F.conv2d(x, w, b, **kwargs)
    assert y.shape == ref.shape and y.dtype == dtype and y.device == ref.device
    batched = x if x.dim() == 4 else x.unsqueeze(0)
    check_16bit(y if y.dim() == 4 else y.unsqueeze(0), batched, w, b, kwargs, dtype)
    assert torch.allclose(y.float(), ref.float(), atol=TOL_16BIT, rtol=TOL_16BIT), (
        f"max abs diff to F.conv2d {max_abs(y.float(), ref.float()):.3e}")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["fp16", "bf16"])
def test_16bit_math_mode_changes_nothing(cuda, restore_flags, dtype):
    x, w, b, kwargs = make_case((2, 64, 20, 33), (128, 64, 3, 3), dict(bias=True), cuda)
    x, w, b = x.to(dtype), w.to(dtype), b.to(dtype)
    results = []
    for tf32 in (True, False):
        torch.backends.cudnn.allow_tf32 = tf32
        # AUTO: IM2COL_GEMM for this dense shape (W 33: not IMPLICIT_GEMM's TMA kernel, and
        # AUTO never takes its 16-bit mma.sync kernel).
        assert functional.auto_algorithm(x, w, b) == "im2col_gemm"
        for algorithm in ("direct", "im2col_gemm", "implicit_gemm"):
            results.append(convgemm.conv2d(x, w, b, algorithm=algorithm))
    # The same bits in both math modes, per algorithm.
    assert all(torch.equal(results[i], results[i + 3]) for i in range(3))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["fp16", "bf16"])
def test_16bit_layer(cuda, dtype):
    torch.manual_seed(0)
    layer = convgemm.nn.Conv2d(16, 32, 3, padding=1).to(cuda, dtype)
    ref = torch.nn.Conv2d(16, 32, 3, padding=1).to(cuda, dtype)
    ref.load_state_dict(layer.state_dict())
    x = torch.rand(2, 16, 24, 40, device=cuda, dtype=dtype)
    with torch.no_grad():
        y = layer(x)
        assert y.dtype == dtype
        assert torch.allclose(y.float(), ref(x).float(), atol=TOL_16BIT, rtol=TOL_16BIT)
        check_16bit(y, x, layer.weight, layer.bias, dict(padding=1), dtype)
