// Elementwise kernels (kernels/elementwise*.c), native and, where oneDNN has
// the same operation, dnnl. Names follow <kernel>/<backend>/<shape>;
// "native" is the table for cpu_isa() (ALRS_ISA forces another), "scalar" the
// plain-C reference. GBps counts the bytes an ideal implementation moves per
// call (each array read or written once), the same for every backend:
// Adam 28 B per parameter (p, g, m, v read; p, m, v written), triad 12 B
// (a = b + s·c, STREAM's count), batchnorm forward 8 B and backward 12 B per
// element (statistics passes that re-read from cache are not counted).
#include <benchmark/benchmark.h>

#include <oneapi/dnnl/dnnl.h>

#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" {
#include "kernels/kernels.h"
}

namespace {

// A 64-byte aligned float array filled with a repeating pattern in [lo, hi).
struct Buf {
    float *p;
    size_t n;
    Buf(size_t count, float lo, float hi) : n(count) {
        p = static_cast<float *>(std::aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64));
        for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * (float)((i * 7919) % 1000) / 1000.0f;
    }
    ~Buf() { std::free(p); }
    Buf(const Buf &) = delete;
    Buf &operator=(const Buf &) = delete;
};

const kernel_table &table(int scalar) {
    static kernel_table native, ref;
    static bool filled = false;
    if (!filled) {
        elementwise_register(&native, cpu_isa());
        elementwise_register(&ref, ISA_SCALAR);
        filled = true;
    }
    return scalar ? ref : native;
}

void gbps(benchmark::State &state, double bytes) {
    state.counters["GBps"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate,
                                                benchmark::Counter::kIs1000);
}

// ---- Adam and the STREAM triad it is measured against ----

void adam_bench(benchmark::State &state, int scalar) {
    const size_t n = (size_t)state.range(0);
    Buf p(n, -1, 1), g(n, -0.01f, 0.01f), m(n, 0, 0), v(n, 0, 0);
    const kernel_table &k = table(scalar);
    for (auto _ : state) {
        k.adam(n, p.p, g.p, m.p, v.p, 0.9f, 0.999f, 1e-3f, 1.0f, 1e-8f, 0.0f);
        benchmark::ClobberMemory();
    }
    gbps(state, 28.0 * n);
}
void adam_native(benchmark::State &state) { adam_bench(state, 0); }
void adam_scalar(benchmark::State &state) { adam_bench(state, 1); }

void triad_native(benchmark::State &state) {
    const size_t n = (size_t)state.range(0);
    Buf a(n, 0, 0), b(n, -1, 1), c(n, -1, 1);
    const float s = 3.0f;
    for (auto _ : state) {
        float *__restrict pa = a.p;
        const float *__restrict pb = b.p, *__restrict pc = c.p;
        for (size_t i = 0; i < n; i++) pa[i] = pb[i] + s * pc[i];
        benchmark::ClobberMemory();
    }
    gbps(state, 12.0 * n);
}

void model_sizes(benchmark::internal::Benchmark *b) {
    b->Arg(61706)->Arg(242762)->Arg(11173962);  // lenet5, mlp, resnet18 parameters
}

BENCHMARK(adam_native)->Name("adam/native")->Apply(model_sizes)->UseRealTime();
BENCHMARK(adam_scalar)->Name("adam/scalar")->Apply(model_sizes)->UseRealTime();
BENCHMARK(triad_native)->Name("triad/native")->Apply(model_sizes)->UseRealTime();

// ---- oneDNN plumbing: one engine and stream, primitives built per benchmark ----

struct Dnnl {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    Dnnl() {
        dnnl_engine_create(&engine, dnnl_cpu, 0);
        dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
    }
};
Dnnl &dnnl() {
    static Dnnl d;
    return d;
}

dnnl_memory_desc_t nchw(int n, int c, int h, int w) {
    dnnl_memory_desc_t md;
    dnnl_dims_t dims = {n, c, h, w};
    dnnl_memory_desc_init_by_tag(&md, 4, dims, dnnl_f32, dnnl_nchw);
    return md;
}
dnnl_memory_desc_t vec(int c) {
    dnnl_memory_desc_t md;
    dnnl_dims_t dims = {c};
    dnnl_memory_desc_init_by_tag(&md, 1, dims, dnnl_f32, dnnl_a);
    return md;
}
dnnl_memory_t wrap(const dnnl_memory_desc_t &md, float *p) {
    dnnl_memory_t mem;
    dnnl_memory_create(&mem, &md, dnnl().engine, p);
    return mem;
}

// Creates the primitive for op_desc (with attr and hint), or skips the benchmark.
dnnl_primitive_t make(benchmark::State &state, const void *op_desc, dnnl_primitive_attr_t attr,
                      const_dnnl_primitive_desc_t hint, dnnl_primitive_desc_t *pd_out = nullptr) {
    dnnl_primitive_desc_t pd;
    if (dnnl_primitive_desc_create(&pd, op_desc, attr, dnnl().engine, hint) != dnnl_success) {
        state.SkipWithError("oneDNN primitive not available");
        return nullptr;
    }
    dnnl_primitive_t prim;
    dnnl_primitive_create(&prim, pd);
    if (pd_out) *pd_out = pd;
    else dnnl_primitive_desc_destroy(pd);
    return prim;
}

// Runs the benchmark loop over one primitive; stops with an error if it fails.
void run(benchmark::State &state, dnnl_primitive_t prim, std::vector<dnnl_exec_arg_t> &args) {
    if (!prim) return;
    for (auto _ : state) {
        if (dnnl_primitive_execute(prim, dnnl().stream, (int)args.size(), args.data()) !=
                dnnl_success ||
            dnnl_stream_wait(dnnl().stream) != dnnl_success) {
            state.SkipWithError("oneDNN primitive failed");
            break;
        }
    }
}

void release(dnnl_primitive_t prim, std::vector<dnnl_exec_arg_t> &args) {
    if (prim) dnnl_primitive_destroy(prim);
    for (auto &a : args) dnnl_memory_destroy(a.memory);
}

// The ResNet-18 (CIFAR) batchnorm shape at batch 64: n64 c64 32×32.
constexpr int N = 64, C = 64, HW = 32 * 32;
constexpr size_t COUNT = (size_t)N * C * HW;

// ---- bias + ReLU, ReLU backward, add ----

void bias_relu_native(benchmark::State &state) {
    Buf x(COUNT, -1, 1), bias(C, -0.1f, 0.1f);
    for (auto _ : state) {
        table(0).bias_relu(N, C, HW, x.p, bias.p, 1);
        benchmark::ClobberMemory();
    }
    gbps(state, 8.0 * COUNT);
}

// oneDNN: binary add with the bias broadcast over n, h, w, then a ReLU post-op, in place.
void bias_relu_dnnl(benchmark::State &state) {
    Buf x(COUNT, -1, 1), bias(C, -0.1f, 0.1f);
    dnnl_memory_desc_t data = nchw(N, C, 32, 32), b = nchw(1, C, 1, 1);
    dnnl_binary_desc_t desc;
    dnnl_binary_desc_init(&desc, dnnl_binary_add, &data, &b, &data);
    dnnl_post_ops_t po;
    dnnl_post_ops_create(&po);
    dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
    dnnl_primitive_attr_t attr;
    dnnl_primitive_attr_create(&attr);
    dnnl_primitive_attr_set_post_ops(attr, po);
    dnnl_primitive_t prim = make(state, &desc, attr, nullptr);
    std::vector<dnnl_exec_arg_t> args = {{DNNL_ARG_SRC_0, wrap(data, x.p)},
                                         {DNNL_ARG_SRC_1, wrap(b, bias.p)},
                                         {DNNL_ARG_DST, wrap(data, x.p)}};
    run(state, prim, args);
    gbps(state, 8.0 * COUNT);
    release(prim, args);
    dnnl_primitive_attr_destroy(attr);
    dnnl_post_ops_destroy(po);
}

void relu_bwd_native(benchmark::State &state) {
    Buf dst(COUNT, -1, 1), diff(COUNT, -1, 1);
    for (auto _ : state) {
        table(0).relu_bwd(COUNT, dst.p, diff.p);
        benchmark::ClobberMemory();
    }
    gbps(state, 12.0 * COUNT);
}

void relu_bwd_dnnl(benchmark::State &state) {
    Buf dst(COUNT, -1, 1), diff(COUNT, -1, 1);
    dnnl_memory_desc_t data = nchw(N, C, 32, 32);
    dnnl_eltwise_desc_t fwd, bwd;
    dnnl_eltwise_forward_desc_init(&fwd, dnnl_forward_training, dnnl_eltwise_relu_use_dst_for_bwd,
                                   &data, 0.0f, 0.0f);
    dnnl_eltwise_backward_desc_init(&bwd, dnnl_eltwise_relu_use_dst_for_bwd, &data, &data, 0.0f,
                                    0.0f);
    dnnl_primitive_desc_t hint;
    dnnl_primitive_t fwd_prim = make(state, &fwd, nullptr, nullptr, &hint);
    dnnl_primitive_t prim = fwd_prim ? make(state, &bwd, nullptr, hint) : nullptr;
    std::vector<dnnl_exec_arg_t> args = {{DNNL_ARG_DST, wrap(data, dst.p)},
                                         {DNNL_ARG_DIFF_DST, wrap(data, diff.p)},
                                         {DNNL_ARG_DIFF_SRC, wrap(data, diff.p)}};
    run(state, prim, args);
    gbps(state, 12.0 * COUNT);
    release(prim, args);
    if (fwd_prim) dnnl_primitive_destroy(fwd_prim), dnnl_primitive_desc_destroy(hint);
}

void add_native(benchmark::State &state) {
    Buf a(COUNT, -1, 1), b(COUNT, -1, 1);
    for (auto _ : state) {
        table(0).add(COUNT, a.p, b.p, a.p, 0);
        benchmark::ClobberMemory();
    }
    gbps(state, 12.0 * COUNT);
}

void add_dnnl(benchmark::State &state) {
    Buf a(COUNT, -1, 1), b(COUNT, -1, 1);
    dnnl_memory_desc_t data = nchw(N, C, 32, 32);
    dnnl_binary_desc_t desc;
    dnnl_binary_desc_init(&desc, dnnl_binary_add, &data, &data, &data);
    dnnl_primitive_t prim = make(state, &desc, nullptr, nullptr);
    std::vector<dnnl_exec_arg_t> args = {{DNNL_ARG_SRC_0, wrap(data, a.p)},
                                         {DNNL_ARG_SRC_1, wrap(data, b.p)},
                                         {DNNL_ARG_DST, wrap(data, a.p)}};
    run(state, prim, args);
    gbps(state, 12.0 * COUNT);
    release(prim, args);
}

BENCHMARK(bias_relu_native)->Name("bias_relu/native/n64c64hw1024")->UseRealTime();
BENCHMARK(bias_relu_dnnl)->Name("bias_relu/dnnl/n64c64hw1024")->UseRealTime();
BENCHMARK(relu_bwd_native)->Name("relu_bwd/native/n64c64hw1024")->UseRealTime();
BENCHMARK(relu_bwd_dnnl)->Name("relu_bwd/dnnl/n64c64hw1024")->UseRealTime();
BENCHMARK(add_native)->Name("add/native/n64c64hw1024")->UseRealTime();
BENCHMARK(add_dnnl)->Name("add/dnnl/n64c64hw1024")->UseRealTime();

// ---- batchnorm (training forward, backward), plain NCHW ----

struct BnData {
    Buf src{COUNT, -1, 3}, dst{COUNT, 0, 0}, diff_dst{COUNT, -1, 1}, diff_src{COUNT, 0, 0};
    Buf gamma{C, 0.5f, 1.5f}, beta{C, -1, 1}, mean{C, 0, 0}, var{C, 0, 0};
    Buf diff_gamma{C, 0, 0}, diff_beta{C, 0, 0};
};

void bn_fwd_train_bench(benchmark::State &state, int scalar) {
    BnData d;
    for (auto _ : state) {
        table(scalar).bn_fwd_train(N, C, HW, d.src.p, d.gamma.p, d.beta.p, 1e-5f, 0, d.dst.p,
                                   d.mean.p, d.var.p);
        benchmark::ClobberMemory();
    }
    gbps(state, 8.0 * COUNT);
}
void bn_fwd_train_native(benchmark::State &state) { bn_fwd_train_bench(state, 0); }
void bn_fwd_train_scalar(benchmark::State &state) { bn_fwd_train_bench(state, 1); }

void bn_bwd_bench(benchmark::State &state, int scalar) {
    BnData d;
    table(0).bn_fwd_train(N, C, HW, d.src.p, d.gamma.p, d.beta.p, 1e-5f, 0, d.dst.p, d.mean.p,
                          d.var.p);
    for (auto _ : state) {
        table(scalar).bn_bwd(N, C, HW, d.src.p, d.dst.p, d.diff_dst.p, d.gamma.p, d.mean.p,
                             d.var.p, 1e-5f, 0, d.diff_src.p, d.diff_gamma.p, d.diff_beta.p);
        benchmark::ClobberMemory();
    }
    gbps(state, 12.0 * COUNT);
}
void bn_bwd_native(benchmark::State &state) { bn_bwd_bench(state, 0); }
void bn_bwd_scalar(benchmark::State &state) { bn_bwd_bench(state, 1); }

const unsigned BN_FLAGS = dnnl_use_scale | dnnl_use_shift;

dnnl_primitive_t bn_fwd_primitive(benchmark::State &state, const dnnl_memory_desc_t &data,
                                  dnnl_primitive_desc_t *pd) {
    dnnl_batch_normalization_desc_t desc;
    dnnl_batch_normalization_forward_desc_init(&desc, dnnl_forward_training, &data, 1e-5f, BN_FLAGS);
    return make(state, &desc, nullptr, nullptr, pd);
}

void bn_fwd_train_dnnl(benchmark::State &state) {
    BnData d;
    dnnl_memory_desc_t data = nchw(N, C, 32, 32), ch = vec(C);
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim = bn_fwd_primitive(state, data, &pd);
    std::vector<dnnl_exec_arg_t> args = {
        {DNNL_ARG_SRC, wrap(data, d.src.p)},    {DNNL_ARG_DST, wrap(data, d.dst.p)},
        {DNNL_ARG_SCALE, wrap(ch, d.gamma.p)},  {DNNL_ARG_SHIFT, wrap(ch, d.beta.p)},
        {DNNL_ARG_MEAN, wrap(ch, d.mean.p)},    {DNNL_ARG_VARIANCE, wrap(ch, d.var.p)}};
    run(state, prim, args);
    gbps(state, 8.0 * COUNT);
    release(prim, args);
    if (prim) dnnl_primitive_desc_destroy(pd);
}

void bn_bwd_dnnl(benchmark::State &state) {
    BnData d;
    table(0).bn_fwd_train(N, C, HW, d.src.p, d.gamma.p, d.beta.p, 1e-5f, 0, d.dst.p, d.mean.p,
                          d.var.p);
    dnnl_memory_desc_t data = nchw(N, C, 32, 32), ch = vec(C);
    dnnl_primitive_desc_t hint;
    dnnl_primitive_t fwd = bn_fwd_primitive(state, data, &hint);
    dnnl_batch_normalization_desc_t desc;
    dnnl_batch_normalization_backward_desc_init(&desc, dnnl_backward, &data, &data, 1e-5f, BN_FLAGS);
    dnnl_primitive_t prim = fwd ? make(state, &desc, nullptr, hint) : nullptr;
    std::vector<dnnl_exec_arg_t> args = {
        {DNNL_ARG_SRC, wrap(data, d.src.p)},
        {DNNL_ARG_DIFF_DST, wrap(data, d.diff_dst.p)},
        {DNNL_ARG_DIFF_SRC, wrap(data, d.diff_src.p)},
        {DNNL_ARG_SCALE, wrap(ch, d.gamma.p)},
        {DNNL_ARG_SHIFT, wrap(ch, d.beta.p)},
        {DNNL_ARG_MEAN, wrap(ch, d.mean.p)},
        {DNNL_ARG_VARIANCE, wrap(ch, d.var.p)},
        {DNNL_ARG_DIFF_SCALE, wrap(ch, d.diff_gamma.p)},
        {DNNL_ARG_DIFF_SHIFT, wrap(ch, d.diff_beta.p)}};
    run(state, prim, args);
    gbps(state, 12.0 * COUNT);
    release(prim, args);
    if (fwd) dnnl_primitive_destroy(fwd), dnnl_primitive_desc_destroy(hint);
}

BENCHMARK(bn_fwd_train_native)->Name("bn_fwd_train/native/n64c64hw1024")->UseRealTime();
BENCHMARK(bn_fwd_train_scalar)->Name("bn_fwd_train/scalar/n64c64hw1024")->UseRealTime();
BENCHMARK(bn_fwd_train_dnnl)->Name("bn_fwd_train/dnnl/n64c64hw1024")->UseRealTime();
BENCHMARK(bn_bwd_native)->Name("bn_bwd/native/n64c64hw1024")->UseRealTime();
BENCHMARK(bn_bwd_scalar)->Name("bn_bwd/scalar/n64c64hw1024")->UseRealTime();
BENCHMARK(bn_bwd_dnnl)->Name("bn_bwd/dnnl/n64c64hw1024")->UseRealTime();

// ---- softmax cross-entropy: 128 rows of 10 classes (the classifier of every model) ----

void softmax_xent_bench(benchmark::State &state, int scalar) {
    const int n = 128, classes = 10;
    Buf logits((size_t)n * classes, -4, 4), grad((size_t)n * classes, 0, 0);
    std::vector<uint8_t> labels(n);
    for (int i = 0; i < n; i++) labels[i] = (uint8_t)(i * 7 % classes);
    int correct;
    for (auto _ : state) {
        double loss = table(scalar).softmax_xent(logits.p, labels.data(), n, classes, (float)n,
                                                 grad.p, nullptr, &correct);
        benchmark::DoNotOptimize(loss);
        benchmark::ClobberMemory();
    }
    gbps(state, (8.0 * classes + 1.0) * n);
    state.counters["rows_per_s"] = benchmark::Counter((double)n, benchmark::Counter::kIsIterationInvariantRate);
}
void softmax_xent_native(benchmark::State &state) { softmax_xent_bench(state, 0); }
void softmax_xent_scalar(benchmark::State &state) { softmax_xent_bench(state, 1); }

BENCHMARK(softmax_xent_native)->Name("softmax_xent/native/n128c10")->UseRealTime();
BENCHMARK(softmax_xent_scalar)->Name("softmax_xent/scalar/n128c10")->UseRealTime();

}  // namespace
