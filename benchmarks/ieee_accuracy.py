# IEEE-math accuracy against a float64 convolution (same inputs): IMPLICIT_GEMM's 3xTF32,
# IM2COL_GEMM's fp32 and cuDNN's FMA math, on reduced-N/H/W versions of KernelBench shapes.
# Needs a CUDA GPU, torch and the Python binding (benchmarks/results/h100_ieee_accuracy.txt).
import torch, torch.nn.functional as F, convgemm
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False
shapes = {  # name: (x shape, w shape)
    "55 (C 64, 3x3)": ((2, 64, 128, 256), (128, 64, 3, 3)),
    "56 (C 64, 5x7)": ((2, 64, 128, 256), (128, 64, 5, 7)),
    "63 (C 16, 3x3)": ((2, 16, 256, 256), (128, 16, 3, 3)),
    "C 8, 7x7": ((2, 8, 128, 256), (64, 8, 7, 7)),
    "C 256, 3x3": ((2, 256, 64, 128), (128, 256, 3, 3)),
}
for name, (xs, ws) in shapes.items():
    torch.manual_seed(0)
    x = torch.randn(*xs, device="cuda")
    w = torch.nn.Conv2d(ws[1], ws[0], ws[2:], bias=False).cuda().weight.detach()
    ref = F.conv2d(x.double(), w.double())
    rows = {}
    for algo in ("implicit_gemm", "im2col_gemm"):
        try:
            rows[algo] = convgemm.conv2d(x, w, algorithm=algo)
        except Exception as e:  # not supported here
            rows[algo] = None
    rows["cudnn_fma"] = F.conv2d(x, w)
    out = []
    for k, y in rows.items():
        if y is None:
            out.append(f"{k} -")
            continue
        e = y.double() - ref
        out.append(f"{k} {(e.norm() / ref.norm()).item():.2e}/{e.abs().max().item():.2e}")
    print(f"{name:16s} rel L2 / max abs: " + "  ".join(out), flush=True)
