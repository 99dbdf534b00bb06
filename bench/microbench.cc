// Google Benchmark microbenchmarks over the C API. Names follow
// <kernel>/<backend>/<shape>; SGEMM shapes are MxNxK.
#include <benchmark/benchmark.h>

#include <oneapi/dnnl/dnnl.h>

#include <vector>

static void sgemm_dnnl(benchmark::State &state) {
    const int m = state.range(0), n = state.range(1), k = state.range(2);
    std::vector<float> a((size_t)m * k, 0.5f), b((size_t)k * n, 0.25f), c((size_t)m * n);
    for (auto _ : state) {
        dnnl_sgemm('N', 'N', m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);
        benchmark::DoNotOptimize(c.data());
    }
    state.counters["GFLOPS"] = benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate,
                                                  benchmark::Counter::kIs1000);
}

static void shapes(benchmark::internal::Benchmark *b) {
    b->Args({1024, 1024, 1024})->Args({128, 256, 784})->Args({128, 10, 128});
}

BENCHMARK(sgemm_dnnl)->Name("sgemm/dnnl")->Apply(shapes)->UseRealTime();

BENCHMARK_MAIN();
