"""The eval's pieces that need no GPU: output comparison verdicts, the flags guard, the stream
timing guard, the report's text, and a clear failure without CUDA."""
import pytest

torch = pytest.importorskip("torch")

from convgemm import _checks  # noqa: E402
from convgemm import eval as cg_eval  # noqa: E402
from conftest import SMALL_PROBLEM, SOLUTION_55  # noqa: E402


def test_compare_passes_within_tolerance():
    ref = torch.rand(2, 3, 4, 5)
    result = _checks.compare_outputs(ref, ref + 5e-5, ref)
    assert result["passed"] and result["max_abs_diff"] == pytest.approx(5e-5, rel=1e-2)


def test_compare_names_an_unsynchronized_output():
    ref = torch.rand(2, 3, 4, 5)
    result = _checks.compare_outputs(ref, torch.zeros_like(ref), ref.clone())
    assert not result["passed"] and "not ready on the current stream" in result["issue"]


def test_compare_mismatch_shape_and_dtype():
    ref = torch.rand(2, 3, 4, 5)
    wrong = ref.clone()
    wrong[..., -1, :] = 0
    assert "output mismatch" in _checks.compare_outputs(ref, wrong, wrong)["issue"]
    assert "shape" in _checks.compare_outputs(ref, ref[..., :-1], ref[..., :-1])["issue"]
    assert "dtype" in _checks.compare_outputs(ref, ref.double(), ref.double())["issue"]


def test_compare_nan_fails():
    ref = torch.rand(4)
    out = ref.clone()
    out[0] = float("nan")
    assert not _checks.compare_outputs(ref, out, out)["passed"]


def test_trial_seeds_are_kernelbench_s():
    torch.manual_seed(42)
    expected = [torch.randint(0, 2**32 - 1, (1,)).item() for _ in range(5)]
    assert _checks.trial_seeds(42, 5) == expected


def test_flags_guard_detects_and_restores(restore_flags):
    before = _checks.snapshot_flags()
    torch.backends.cudnn.benchmark = not torch.backends.cudnn.benchmark
    result = _checks.check_flags(before, "test")
    assert not result["passed"] and "cudnn.benchmark" in result["changed"]
    assert _checks.snapshot_flags() == before


def test_stream_timing_guard():
    honest = {"event_ms": [4.0] * 5, "synced_ms": [4.02] * 5}
    reference = {"event_ms": [4.4] * 5, "synced_ms": [4.42] * 5}
    hidden = {"event_ms": [0.05] * 5, "synced_ms": [4.05] * 5}
    assert _checks.check_stream_timing(honest, reference)["passed"]
    result = _checks.check_stream_timing(hidden, reference)
    assert not result["passed"] and "another stream" in result["issue"]


def test_format_report():
    stats = {"mean": 2.0, "median": 2.0, "std": 0.1, "min": 1.9, "max": 2.2, "n": 3}
    report = {
        "environment": {"card": "GPU", "compute_capability": "9.0", "driver": "1", "torch": "2",
                        "cuda": "13", "cudnn": 9, "convgemm": "0.1.0"},
        "problem": "p.py", "solution": "s.py", "settings": {}, "flags": {"cudnn.allow_tf32": True},
        "parameters_identical": True,
        "trials": [{"seed": 1, "passed": True, "max_abs_diff": 1e-6}],
        "guards": {"stream_timing": {"passed": True}},
        "timings": {"model_new": {"synced": stats, "kernelbench": stats},
                    "model_eager": {"synced": stats, "kernelbench": stats},
                    "model_compiled": {"failed": True, "error": "BackendCompilerFailed: x"}},
        "speedups": {"vs_eager": {"mean": 1.0, "median": 1.0, "kernelbench_mean": 1.0}},
        "passed": True,
    }
    text = cg_eval.format_report(report)
    assert "RESULT: PASS" in text and "failed: BackendCompilerFailed" in text
    assert "speedup vs eager: 1.000x" in text


def test_cli_without_cuda(capsys):
    if torch.cuda.is_available():
        pytest.skip("has CUDA")
    assert cg_eval.main([str(SMALL_PROBLEM), str(SOLUTION_55)]) == 1
    assert "CUDA" in capsys.readouterr().err


def test_load_module_runs_each_file_fresh(tmp_path):
    path = tmp_path / "solution.py"
    path.write_text("import itertools\ncounter = itertools.count()\nVALUE = 7\n")
    first = cg_eval.load_module(path, "solution")
    second = cg_eval.load_module(str(path), "solution")
    assert first.VALUE == second.VALUE == 7 and first is not second
    assert next(first.counter) == next(second.counter) == 0
