"""cuda_library: compiles .cu sources with nvcc and wraps the objects in a cc_library.

Every nvcc flag lives here, in one place. Objects are position-independent so the same
cc_library links into static binaries and into libconvgemm.so.
"""

NVCC = "/usr/local/cuda/bin/nvcc"

# sm_90a: Hopper with wgmma/setmaxnreg; sm_80: Ampere and later through PTX-compatible SASS;
# compute_80 PTX so newer GPUs without their own SASS can JIT.
CUDA_ARCH_FLAGS = [
    "-gencode=arch=compute_90a,code=sm_90a",
    "-gencode=arch=compute_80,code=sm_80",
    "-gencode=arch=compute_80,code=compute_80",
]

NVCC_FLAGS = CUDA_ARCH_FLAGS + [
    "-std=c++17",
    "-O3",
    "-Xcompiler=-fPIC",
    "-Xcompiler=-Wall",
    "-Xptxas=-warn-spills",
    "--Werror=all-warnings",
]

def cuda_library(name, srcs, hdrs = [], cuda_hdrs = [], deps = [], copts = [], **kwargs):
    """A cc_library whose srcs are .cu files compiled by nvcc.

    Args:
      name: the cc_library's name.
      srcs: .cu files, one object each.
      hdrs: public headers of the library (also visible to the .cu files).
      cuda_hdrs: private headers the .cu files include (.cuh).
      deps: cc_library targets whose headers the .cu files include and that the objects need.
      copts: extra nvcc flags.
      **kwargs: passed to the cc_library (visibility, ...).
    """
    # Includes are written from the repository root ("conv/convgemm.h"); when convgemm is an
    # external repository of another workspace, that root is external/<name>.
    root = Label("//:BUILD").workspace_root or "."
    include_flags = ["-I" + root, "-I$(GENDIR)/" + root]
    objs = []
    for src in srcs:
        stem = src.replace("/", "_").rsplit(".", 1)[0]
        obj = "_objs_cuda/%s/%s.o" % (name, stem)
        native.genrule(
            name = "%s_%s_nvcc" % (name, stem),
            srcs = [src] + hdrs + cuda_hdrs,
            outs = [obj],
            cmd = " ".join([NVCC] + NVCC_FLAGS + include_flags + copts + ["-c", "$(location %s)" % src, "-o", "$@"]),
            message = "nvcc %s" % src,
        )
        objs.append(obj)
    native.cc_library(
        name = name,
        srcs = objs,
        hdrs = hdrs,
        deps = deps + ["@cuda//:cudart"],
        **kwargs
    )
