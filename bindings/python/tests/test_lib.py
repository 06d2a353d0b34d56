"""The ctypes layer against the real libconvgemm.so, on any machine (no GPU, no torch): version,
status strings, the params struct's layout, descriptor validation errors."""
import ctypes

import pytest

from convgemm import _lib, _resources
from convgemm._lib import ConvgemmError, Status


def key(**overrides):
    fields = dict(n=2, c=8, h=13, w=17, k=16, r=3, s=3, pad_h=0, pad_w=0, stride_h=1, stride_w=1,
                  dilation_h=1, dilation_w=1, groups=1, has_bias=0, data_type=0, math_mode=0)
    fields.update(overrides)
    return tuple(fields[f] for f in _resources.KEY_FIELDS)


def test_version(lib):
    assert _lib.version()[:2] == _lib.HEADER_VERSION


def test_status_names_match_the_library(lib):
    for status in Status:
        assert lib.convgemm_status_string(status).decode() == f"CONVGEMM_STATUS_{status.name}"


def test_params_layout_round_trips(lib):
    # Every field distinct, read back through the library: catches a field order or size slip.
    k = key(n=3, c=12, h=40, w=50, k=24, r=5, s=3, pad_h=2, pad_w=1, stride_h=2, stride_w=3,
            dilation_h=2, dilation_w=1, groups=4, has_bias=1, math_mode=1)
    d = _resources.descriptor(k)
    back = _lib.Conv2dParams()
    _lib.call("convgemm_conv_desc_get_params", d.ptr, ctypes.byref(back))
    assert tuple(getattr(back, f) for f in _resources.KEY_FIELDS) == k
    assert back.data_type == _lib.DataType.FLOAT32


@pytest.mark.parametrize("data_type", [_lib.DataType.FLOAT16, _lib.DataType.BFLOAT16])
def test_16bit_descriptors(lib, data_type):
    # The library accepts both 16-bit types and reads them back; the output shape is the same.
    k = key(data_type=int(data_type), has_bias=1, math_mode=1)
    d = _resources.descriptor(k)
    back = _lib.Conv2dParams()
    _lib.call("convgemm_conv_desc_get_params", d.ptr, ctypes.byref(back))
    assert back.data_type == data_type
    assert tuple(getattr(back, f) for f in _resources.KEY_FIELDS) == k
    assert d.output_shape == _resources.descriptor(key()).output_shape
    assert _lib.DataType(2).name == "BFLOAT16" and _lib.DataType(1).name == "FLOAT16"


def test_output_shape(lib):
    d = _resources.descriptor(key(h=13, w=17, r=5, s=3, pad_h=1, pad_w=2, stride_h=2,
                                  dilation_w=2))
    # P = (13 + 2 - 4 - 1) / 2 + 1 = 6, Q = (17 + 4 - 4 - 1) / 1 + 1 = 17
    assert d.output_shape == (2, 16, 6, 17)


def test_descriptor_cache_returns_the_same_object(lib):
    assert _resources.descriptor(key(c=4)) is _resources.descriptor(key(c=4))


@pytest.mark.parametrize("overrides, status, words", [
    (dict(stride_h=0), Status.BAD_STRIDE, "stride_h"),
    (dict(pad_w=-1), Status.BAD_PADDING, "pad_w"),
    (dict(dilation_w=0), Status.BAD_DILATION, "dilation_w"),
    (dict(groups=3), Status.BAD_GROUPS, "groups"),
    (dict(n=0), Status.BAD_SIZE, "n"),
    (dict(r=15), Status.FILTER_TOO_LARGE, "exceeds"),
    (dict(math_mode=7), Status.BAD_ENUM, "math"),
    (dict(data_type=3), Status.BAD_ENUM, "data_type"),
])
def test_descriptor_errors(lib, overrides, status, words):
    with pytest.raises(ConvgemmError) as info:
        _resources.descriptor(key(**overrides))
    e = info.value
    assert isinstance(e, RuntimeError)
    assert e.status == status and e.status_name == f"CONVGEMM_STATUS_{status.name}"
    assert e.function == "convgemm_conv_desc_create"
    assert words in e.message and e.message in str(e)


def test_failed_descriptor_is_not_cached(lib):
    with pytest.raises(ConvgemmError):
        _resources.descriptor(key(stride_w=0))
    assert key(stride_w=0) not in _resources._descriptors


def test_error_pickles(lib):
    import pickle

    with pytest.raises(ConvgemmError) as info:
        _resources.descriptor(key(pad_h=-2))
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.status, copy.message, str(copy)) == (Status.BAD_PADDING, info.value.message,
                                                      str(info.value))
