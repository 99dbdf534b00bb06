// alrs-microbench: every bench/bench_*.cc registers its benchmarks; names
// follow <kernel>/<backend>/<shape>. JSON output converts to CSV with
// scripts/bench-to-csv.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
