# Which TF32 rounding does PyTorch's cuDNN use? Its default convolution (TF32 allowed) against
# float64 convolutions of the same operands rounded to TF32 ties away (rna), to nearest even (rne),
# toward zero (rz) or not at all, on a 1x1 and a 3x3 shape. Needs a CUDA GPU and torch
# (benchmarks/results/h100_cudnn_tf32_rounding.txt).
import torch, torch.nn.functional as F
torch.backends.cudnn.allow_tf32 = True
def tf32(t, mode):
    """t rounded to TF32 (10 mantissa bits) in `mode`, as float32 (finite values)."""
    b = t.contiguous().view(torch.int32)
    if mode == "rna":   # ties away
        b = (b + 0x1000) & ~0x1FFF
    elif mode == "rz":  # truncation
        b = b & ~0x1FFF
    elif mode == "rne":
        b = (b + 0xFFF + ((b >> 13) & 1)) & ~0x1FFF
    return b.view(torch.float32)
for name, xs, ws, dist in [("86_pw-like 1x1", (4, 64, 128, 128), (128, 64, 1, 1), "rand"),
                           ("86_pw-like 1x1", (4, 64, 128, 128), (128, 64, 1, 1), "randn"),
                           ("55-like 3x3", (2, 64, 64, 128), (128, 64, 3, 3), "rand")]:
    torch.manual_seed(0)
    x = (torch.rand if dist == "rand" else torch.randn)(*xs, device="cuda")
    w = torch.nn.Conv2d(ws[1], ws[0], ws[2:], bias=False).cuda().weight.detach()
    y = F.conv2d(x, w)
    out = []
    for mode in ("rna", "rne", "rz", "none"):
        ref = F.conv2d(tf32(x, mode).double() if mode != "none" else x.double(),
                       tf32(w, mode).double() if mode != "none" else w.double())
        out.append(f"{mode} {(y.double() - ref).abs().max().item():.2e}")
    print(f"{name} ({dist}): cuDNN TF32 vs float64 of operands rounded: " + "  ".join(out), flush=True)
