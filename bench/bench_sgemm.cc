// Google Benchmark microbenchmarks over the C API. Names follow
// <kernel>/<backend>/<shape>; SGEMM shapes are MxNxK (C is M×N, inner
// dimension K), followed by /nt or /tn when op(B) or op(A) is transposed.
// Every shape runs on oneDNN's dnnl_sgemm and on the native kernel table's
// sgemm (kernels()->sgemm, the CPU's best ISA or ALRS_ISA), with the same
// operands, so the two can be compared within one run.
#include <benchmark/benchmark.h>

#include <oneapi/dnnl/dnnl.h>

#include <string>
#include <vector>

extern "C" {
#include "kernels/kernels.h"
}

namespace {

struct gemm_shape {
    int m, n, k;
    int transa, transb;
};

// The dense layers of the MLPs (784-256-128-64-10, and 784-256-128-10 as in
// TOOLCHAIN.md) at batch 128: the forward pass is src·W^T (nt), the weight
// gradient diff^T·src (tn), the data gradient diff·W (nn); plus 1024³.
const gemm_shape shapes[] = {
    {1024, 1024, 1024, 0, 0},
    {128, 256, 784, 0, 0},
    {128, 10, 128, 0, 0},
    {128, 64, 128, 0, 0},
    // forward
    {128, 256, 784, 0, 1},
    {128, 128, 256, 0, 1},
    {128, 64, 128, 0, 1},
    {128, 10, 64, 0, 1},
    {128, 10, 128, 0, 1},
    // backward, weights
    {256, 784, 128, 1, 0},
    {128, 256, 128, 1, 0},
    {64, 128, 128, 1, 0},
    {10, 64, 128, 1, 0},
    {10, 128, 128, 1, 0},
    // backward, data (the first layer has none)
    {128, 256, 128, 0, 0},
    {128, 128, 64, 0, 0},
    {128, 64, 10, 0, 0},
    {128, 128, 10, 0, 0},
};

struct operands {
    std::vector<float> a, b, c;
    int lda, ldb, ldc;
    explicit operands(const gemm_shape &s)
        : a((size_t)s.m * s.k), b((size_t)s.k * s.n), c((size_t)s.m * s.n),
          lda(s.transa ? s.m : s.k), ldb(s.transb ? s.k : s.n), ldc(s.n) {
        for (size_t i = 0; i < a.size(); i++) a[i] = 0.5f + 0.001f * (float)(i % 97);
        for (size_t i = 0; i < b.size(); i++) b[i] = 0.25f - 0.001f * (float)(i % 89);
    }
};

void set_rate(benchmark::State &state, const gemm_shape &s) {
    state.counters["GFLOPS"] = benchmark::Counter(2.0 * s.m * s.n * s.k,
                                                  benchmark::Counter::kIsIterationInvariantRate,
                                                  benchmark::Counter::kIs1000);
}

void sgemm_dnnl(benchmark::State &state, gemm_shape s) {
    operands o(s);
    for (auto _ : state) {
        dnnl_sgemm(s.transa ? 'T' : 'N', s.transb ? 'T' : 'N', s.m, s.n, s.k, 1.0f, o.a.data(),
                   o.lda, o.b.data(), o.ldb, 0.0f, o.c.data(), o.ldc);
        benchmark::DoNotOptimize(o.c.data());
        benchmark::ClobberMemory();
    }
    set_rate(state, s);
}

void sgemm_native(benchmark::State &state, gemm_shape s) {
    operands o(s);
    sgemm_fn sgemm = kernels()->sgemm;
    for (auto _ : state) {
        sgemm(s.transa, s.transb, s.m, s.n, s.k, 1.0f, o.a.data(), o.lda, o.b.data(), o.ldb, 0.0f,
              o.c.data(), o.ldc);
        benchmark::DoNotOptimize(o.c.data());
        benchmark::ClobberMemory();
    }
    state.SetLabel(cpu_isa_name(kernels()->isa));
    set_rate(state, s);
}

std::string shape_name(const gemm_shape &s) {
    std::string name = std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
    if (s.transa || s.transb) name += std::string("/") + (s.transa ? "t" : "n") + (s.transb ? "t" : "n");
    return name;
}

// Native and dnnl side by side for each shape, so that a filtered run keeps
// each pair close in time.
int register_sgemm() {
    for (const gemm_shape &s : shapes) {
        benchmark::RegisterBenchmark(("sgemm/native/" + shape_name(s)).c_str(), sgemm_native, s)
            ->UseRealTime();
        benchmark::RegisterBenchmark(("sgemm/dnnl/" + shape_name(s)).c_str(), sgemm_dnnl, s)
            ->UseRealTime();
    }
    return 0;
}

const int registered = register_sgemm();

}  // namespace
