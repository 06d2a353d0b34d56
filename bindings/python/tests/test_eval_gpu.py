"""convgemm.eval end to end on the GPU: the convgemm solution passes; each deliberately wrong
solution in wrong_solutions/ is failed by the check meant for it. Fast tests use the small
problem (problems/small_conv2d.py); the slow ones problem 55 itself."""
import json

import pytest

torch = pytest.importorskip("torch")

from convgemm import eval as cg_eval  # noqa: E402
from conftest import SMALL_PROBLEM, SOLUTION_55, WRONG_SOLUTIONS  # noqa: E402

FAST = dict(trials=3, timed=10, warmup=2, compile_reference=False)


def evaluate(solution, problem=SMALL_PROBLEM, **kwargs):
    settings = dict(FAST)
    settings.update(kwargs)
    return cg_eval.evaluate(problem, solution, **settings)


def failed_guards(report):
    return {name for name, g in report["guards"].items() if not g["passed"]}


@pytest.mark.parametrize("tf32", [None, True, False], ids=["default", "tf32_on", "tf32_off"])
def test_convgemm_solution_passes(cuda, restore_flags, tf32):
    report = evaluate(SOLUTION_55, tf32=tf32)
    assert report["passed"], cg_eval.format_report(report)
    assert report["parameters_identical"]
    assert all(t["max_abs_diff"] < 1e-4 for t in report["trials"])
    assert set(report["timings"]) == {"model_new", "model_eager"}
    assert report["speedups"]["vs_eager"]["mean"] > 0
    json.dumps(cg_eval._json_ready(report))


def test_skips_last_row(cuda, restore_flags):
    report = evaluate(WRONG_SOLUTIONS / "skips_last_row.py")
    assert not report["passed"]
    assert not any(t["passed"] for t in report["trials"])
    assert all("output mismatch" in t["issue"] for t in report["trials"])


def test_side_stream(cuda, restore_flags):
    report = evaluate(WRONG_SOLUTIONS / "side_stream.py")
    assert not report["passed"]
    failed = [t for t in report["trials"] if not t["passed"]]
    assert failed and all("not ready on the current stream" in t["issue"] for t in failed)


def test_hidden_side_work(cuda, restore_flags):
    report = evaluate(WRONG_SOLUTIONS / "hidden_side_work.py")
    assert report["correct"] and not report["passed"]
    assert failed_guards(report) == {"stream_timing"}
    # KernelBench's own number would have credited it with the convolution's time alone.
    timings = report["timings"]["model_new"]
    assert timings["synced"]["median"] > 5 * timings["kernelbench"]["median"]


def test_truncates_tf32(cuda, restore_flags):
    report = evaluate(WRONG_SOLUTIONS / "truncates_tf32.py")
    assert not report["passed"]
    assert not any(t["passed"] for t in report["trials"])


def test_mutates_input(cuda, restore_flags):
    report = evaluate(WRONG_SOLUTIONS / "mutates_input.py")
    assert not report["passed"]
    assert all(not t["inputs_unchanged"] and "modified its input" in t["issue"]
               for t in report["trials"])


def test_flips_tf32_flag(cuda, restore_flags):
    before = torch.backends.cudnn.allow_tf32
    report = evaluate(WRONG_SOLUTIONS / "flips_tf32_flag.py")
    assert not report["passed"]
    assert all(not t["flags_unchanged"] for t in report["trials"])
    assert "cudnn.allow_tf32" in report["trials"][0]["issue"]
    assert torch.backends.cudnn.allow_tf32 == before  # restored by the eval


def test_caches_output(cuda, restore_flags):
    report = evaluate(WRONG_SOLUTIONS / "caches_output.py")
    assert not report["passed"]
    assert "output_depends_on_input" in failed_guards(report)


def test_cli_writes_json_and_exit_status(cuda, restore_flags, tmp_path):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    common = ["--trials", "2", "--timed", "5", "--warmup", "1", "--no-compile"]
    assert cg_eval.main([str(SMALL_PROBLEM), str(SOLUTION_55), "--json", str(good)] + common) == 0
    assert cg_eval.main([str(SMALL_PROBLEM), str(WRONG_SOLUTIONS / "skips_last_row.py"),
                         "--json", str(bad)] + common) == 1
    report = json.loads(good.read_text())
    assert report["passed"] and report["environment"]["card"] == torch.cuda.get_device_name()
    assert not json.loads(bad.read_text())["passed"]


@pytest.mark.slow
def test_compile_reference_timed(cuda, restore_flags):
    report = evaluate(SOLUTION_55, compile_reference=True)
    assert report["passed"], cg_eval.format_report(report)
    compiled = report["timings"]["model_compiled"]
    assert compiled.get("failed") or "vs_compile" in report["speedups"], compiled


@pytest.mark.slow
def test_problem_55(cuda, restore_flags):
    report = evaluate(SOLUTION_55, problem=SOLUTION_55, trials=5, timed=20, warmup=3)
    assert report["passed"], cg_eval.format_report(report)


@pytest.mark.slow
def test_problem_55_truncation_fails(cuda, restore_flags):
    report = evaluate(WRONG_SOLUTIONS / "truncates_tf32.py", problem=SOLUTION_55, trials=2)
    assert not report["passed"]
    assert all("output mismatch" in t["issue"] for t in report["trials"])


@pytest.mark.slow
def test_problem_55_skipped_row_fails(cuda, restore_flags):
    report = evaluate(WRONG_SOLUTIONS / "skips_last_row.py", problem=SOLUTION_55, trials=2)
    assert not report["passed"]
