// Convolution and max-pool microbenchmarks: the native kernels (kernels()) in
// plain NCHW/OIHW beside oneDNN with the layouts it chooses (format_tag_any,
// data reordered once outside the timed loop). Names: conv_fwd/native/<shape>,
// conv_fwd/dnnl/<shape>, ...; GFLOPS counts 2·N·K·C·R·S·OH·OW per pass.
#include <benchmark/benchmark.h>

#include <oneapi/dnnl/dnnl.h>

#include <cstdint>
#include <string>
#include <vector>

extern "C" {
#include "kernels/kernels.h"
}

namespace {

enum Op { FWD, BWD_W, BWD_D };

struct ConvCase {
    int n, c, h, w, k, r, pad, stride;
};

const ConvCase kLenet1 = {128, 1, 28, 28, 6, 5, 2, 1};
const ConvCase kLenet2 = {128, 6, 14, 14, 16, 5, 0, 1};
const ConvCase kLenet3 = {128, 16, 5, 5, 120, 5, 0, 1};
const ConvCase kResnet = {64, 64, 32, 32, 64, 3, 1, 1};

conv_shape to_shape(const ConvCase &cc) {
    conv_shape s = {cc.n, cc.c, cc.h, cc.w, cc.k, cc.r, cc.r, cc.stride, cc.pad, 0, 0};
    s.oh = (cc.h + 2 * cc.pad - cc.r) / cc.stride + 1;
    s.ow = (cc.w + 2 * cc.pad - cc.r) / cc.stride + 1;
    return s;
}

std::string shape_name(const ConvCase &cc) {
    return "n" + std::to_string(cc.n) + "_c" + std::to_string(cc.c) + "_k" + std::to_string(cc.k) +
           "_" + std::to_string(cc.h) + "x" + std::to_string(cc.w) + "_" + std::to_string(cc.r) +
           "x" + std::to_string(cc.r) + "_p" + std::to_string(cc.pad) +
           (cc.stride > 1 ? "_s" + std::to_string(cc.stride) : "");
}

double conv_flops(const conv_shape &s) {
    return 2.0 * s.n * s.k * s.c * s.r * s.s * s.oh * s.ow;
}

std::vector<float> filled(size_t n, float seed) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; i++) v[i] = (float)((i * 2654435761u + (unsigned)(seed * 977)) % 1000) / 500.0f - 1.0f;
    return v;
}

void set_gflops(benchmark::State &state, double flops) {
    state.counters["GFLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate,
                                                  benchmark::Counter::kIs1000);
}

void conv_native(benchmark::State &state, ConvCase cc, Op op) {
    conv_shape s = to_shape(cc);
    const kernel_table *t = kernels();
    auto x = filled((size_t)s.n * s.c * s.h * s.w, 1), w = filled((size_t)s.k * s.c * s.r * s.s, 2);
    auto b = filled(s.k, 3), y = filled((size_t)s.n * s.k * s.oh * s.ow, 4);
    std::vector<float> dw(w.size()), db(s.k), dx(x.size()), scratch(t->conv_scratch_floats(&s) + 1);
    for (auto _ : state) {
        if (op == FWD) t->conv_fwd(&s, x.data(), w.data(), b.data(), 1, y.data(), scratch.data());
        if (op == BWD_W) t->conv_bwd_w(&s, x.data(), y.data(), dw.data(), db.data(), scratch.data());
        if (op == BWD_D) t->conv_bwd_d(&s, y.data(), w.data(), dx.data(), scratch.data());
        benchmark::ClobberMemory();
    }
    set_gflops(state, conv_flops(s));
}

// --- oneDNN -----------------------------------------------------------------

struct Dnnl {
    dnnl_engine_t eng;
    dnnl_stream_t st;
    Dnnl() {
        dnnl_engine_create(&eng, dnnl_cpu, 0);
        dnnl_stream_create(&st, eng, dnnl_stream_default_flags);
    }
};
Dnnl &dnnl() {
    static Dnnl d;
    return d;
}

dnnl_memory_desc_t md4(int a, int b, int c, int d, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t md;
    dnnl_dims_t dims = {a, b, c, d};
    dnnl_memory_desc_init_by_tag(&md, 4, dims, dnnl_f32, tag);
    return md;
}

// A memory in the layout `want`, filled from plain data with one reorder.
dnnl_memory_t layout_memory(const dnnl_memory_desc_t &plain, const dnnl_memory_desc_t *want,
                            std::vector<float> &data) {
    Dnnl &d = dnnl();
    dnnl_memory_t user, mem;
    dnnl_memory_create(&user, &plain, d.eng, data.data());
    dnnl_memory_create(&mem, want, d.eng, DNNL_MEMORY_ALLOCATE);
    dnnl_primitive_desc_t rpd;
    dnnl_reorder_primitive_desc_create(&rpd, &plain, d.eng, want, d.eng, nullptr);
    dnnl_primitive_t r;
    dnnl_primitive_create(&r, rpd);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, mem}};
    dnnl_primitive_execute(r, d.st, 2, args);
    dnnl_stream_wait(d.st);
    dnnl_primitive_destroy(r);
    dnnl_primitive_desc_destroy(rpd);
    dnnl_memory_destroy(user);
    return mem;
}

const dnnl_memory_desc_t *query(dnnl_primitive_desc_t pd, dnnl_query_t what) {
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

void conv_dnnl(benchmark::State &state, ConvCase cc, Op op) {
    Dnnl &d = dnnl();
    conv_shape s = to_shape(cc);
    auto x = filled((size_t)s.n * s.c * s.h * s.w, 1), w = filled((size_t)s.k * s.c * s.r * s.s, 2);
    auto b = filled(s.k, 3), y = filled((size_t)s.n * s.k * s.oh * s.ow, 4);
    dnnl_memory_desc_t xa = md4(s.n, s.c, s.h, s.w, dnnl_format_tag_any);
    dnnl_memory_desc_t wa = md4(s.k, s.c, s.r, s.s, dnnl_format_tag_any);
    dnnl_memory_desc_t ya = md4(s.n, s.k, s.oh, s.ow, dnnl_format_tag_any), bm;
    dnnl_dims_t bd = {s.k};
    dnnl_memory_desc_init_by_tag(&bm, 1, bd, dnnl_f32, dnnl_x);
    dnnl_dims_t strides = {s.stride, s.stride}, pad = {s.pad, s.pad};
    dnnl_convolution_desc_t fd, od;
    dnnl_primitive_desc_t fpd, pd;
    dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &xa, &wa,
                                       &bm, &ya, strides, pad, pad);
    dnnl_primitive_desc_create(&fpd, &fd, nullptr, d.eng, nullptr);
    if (op == FWD) {
        pd = fpd;
    } else if (op == BWD_W) {
        dnnl_convolution_backward_weights_desc_init(&od, dnnl_convolution_direct, &xa, &wa, &bm, &ya,
                                                    strides, pad, pad);
        dnnl_primitive_desc_create(&pd, &od, nullptr, d.eng, fpd);
    } else {
        dnnl_convolution_backward_data_desc_init(&od, dnnl_convolution_direct, &xa, &wa, &ya, strides,
                                                 pad, pad);
        dnnl_primitive_desc_create(&pd, &od, nullptr, d.eng, fpd);
    }
    dnnl_memory_desc_t xp = md4(s.n, s.c, s.h, s.w, dnnl_nchw), wp = md4(s.k, s.c, s.r, s.s, dnnl_oihw);
    dnnl_memory_desc_t yp = md4(s.n, s.k, s.oh, s.ow, dnnl_nchw);
    std::vector<dnnl_exec_arg_t> args;
    dnnl_memory_t bmem;
    dnnl_memory_create(&bmem, &bm, d.eng, b.data());
    if (op == FWD) {
        args = {{DNNL_ARG_SRC, layout_memory(xp, query(pd, dnnl_query_src_md), x)},
                {DNNL_ARG_WEIGHTS, layout_memory(wp, query(pd, dnnl_query_weights_md), w)},
                {DNNL_ARG_BIAS, bmem},
                {DNNL_ARG_DST, layout_memory(yp, query(pd, dnnl_query_dst_md), y)}};
    } else if (op == BWD_W) {
        args = {{DNNL_ARG_SRC, layout_memory(xp, query(pd, dnnl_query_src_md), x)},
                {DNNL_ARG_DIFF_DST, layout_memory(yp, query(pd, dnnl_query_diff_dst_md), y)},
                {DNNL_ARG_DIFF_WEIGHTS, layout_memory(wp, query(pd, dnnl_query_diff_weights_md), w)},
                {DNNL_ARG_DIFF_BIAS, bmem}};
    } else {
        args = {{DNNL_ARG_DIFF_DST, layout_memory(yp, query(pd, dnnl_query_diff_dst_md), y)},
                {DNNL_ARG_WEIGHTS, layout_memory(wp, query(pd, dnnl_query_weights_md), w)},
                {DNNL_ARG_DIFF_SRC, layout_memory(xp, query(pd, dnnl_query_diff_src_md), x)}};
    }
    dnnl_primitive_t prim;
    dnnl_primitive_create(&prim, pd);
    for (auto _ : state) {
        dnnl_primitive_execute(prim, d.st, (int)args.size(), args.data());
        dnnl_stream_wait(d.st);
    }
    set_gflops(state, conv_flops(s));
    const char *impl = nullptr;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    if (impl) state.SetLabel(impl);
    dnnl_primitive_destroy(prim);
    for (auto &a : args) dnnl_memory_destroy(a.memory);
    if (pd != fpd) dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_desc_destroy(fpd);
}

// --- max pooling 2×2 stride 2 ---------------------------------------------------

struct PoolCase {
    int n, c, h, w;
};

pool_shape to_pool(const PoolCase &pc) {
    return pool_shape{pc.n, pc.c, pc.h, pc.w, 2, 2, pc.h / 2, pc.w / 2};
}

std::string pool_name(const PoolCase &pc) {
    return "n" + std::to_string(pc.n) + "_c" + std::to_string(pc.c) + "_" + std::to_string(pc.h) +
           "x" + std::to_string(pc.w) + "_2x2_s2";
}

// Bytes moved: src + dst + argmax forward; diff_dst + argmax + diff_src backward.
void set_gbps(benchmark::State &state, const pool_shape &s) {
    double in = (double)s.n * s.c * s.h * s.w * 4, out = (double)s.n * s.c * s.oh * s.ow * 4;
    state.counters["GBps"] = benchmark::Counter(in + 2 * out, benchmark::Counter::kIsIterationInvariantRate,
                                                benchmark::Counter::kIs1000);
}

void pool_native(benchmark::State &state, PoolCase pc, bool bwd) {
    pool_shape s = to_pool(pc);
    const kernel_table *t = kernels();
    auto x = filled((size_t)s.n * s.c * s.h * s.w, 1), y = filled((size_t)s.n * s.c * s.oh * s.ow, 2);
    std::vector<int32_t> am(y.size());
    t->maxpool_fwd(&s, x.data(), y.data(), am.data());
    for (auto _ : state) {
        if (bwd) t->maxpool_bwd(&s, y.data(), am.data(), nullptr, x.data());
        else t->maxpool_fwd(&s, x.data(), y.data(), am.data());
        benchmark::ClobberMemory();
    }
    set_gbps(state, s);
}

void pool_dnnl(benchmark::State &state, PoolCase pc, bool bwd) {
    Dnnl &d = dnnl();
    pool_shape s = to_pool(pc);
    auto x = filled((size_t)s.n * s.c * s.h * s.w, 1), y = filled((size_t)s.n * s.c * s.oh * s.ow, 2);
    dnnl_memory_desc_t xm = md4(s.n, s.c, s.h, s.w, dnnl_nchw), ym = md4(s.n, s.c, s.oh, s.ow, dnnl_nchw);
    dnnl_dims_t strides = {2, 2}, kernel = {2, 2}, pad = {0, 0};
    dnnl_pooling_desc_t fd, bd;
    dnnl_primitive_desc_t fpd, bpd;
    dnnl_pooling_forward_desc_init(&fd, dnnl_forward_training, dnnl_pooling_max, &xm, &ym, strides,
                                   kernel, pad, pad);
    dnnl_primitive_desc_create(&fpd, &fd, nullptr, d.eng, nullptr);
    dnnl_pooling_backward_desc_init(&bd, dnnl_pooling_max, &xm, &ym, strides, kernel, pad, pad);
    dnnl_primitive_desc_create(&bpd, &bd, nullptr, d.eng, fpd);
    dnnl_memory_t xmem, ymem, ws;
    dnnl_memory_create(&xmem, &xm, d.eng, x.data());
    dnnl_memory_create(&ymem, &ym, d.eng, y.data());
    dnnl_memory_create(&ws, query(fpd, dnnl_query_workspace_md), d.eng, DNNL_MEMORY_ALLOCATE);
    dnnl_primitive_t fwd, bwdp;
    dnnl_primitive_create(&fwd, fpd);
    dnnl_primitive_create(&bwdp, bpd);
    dnnl_exec_arg_t fargs[3] = {{DNNL_ARG_SRC, xmem}, {DNNL_ARG_DST, ymem}, {DNNL_ARG_WORKSPACE, ws}};
    dnnl_exec_arg_t bargs[3] = {{DNNL_ARG_DIFF_DST, ymem}, {DNNL_ARG_WORKSPACE, ws}, {DNNL_ARG_DIFF_SRC, xmem}};
    dnnl_primitive_execute(fwd, d.st, 3, fargs);
    dnnl_stream_wait(d.st);
    for (auto _ : state) {
        if (bwd) dnnl_primitive_execute(bwdp, d.st, 3, bargs);
        else dnnl_primitive_execute(fwd, d.st, 3, fargs);
        dnnl_stream_wait(d.st);
    }
    set_gbps(state, s);
    dnnl_primitive_destroy(fwd), dnnl_primitive_destroy(bwdp);
    dnnl_memory_destroy(xmem), dnnl_memory_destroy(ymem), dnnl_memory_destroy(ws);
    dnnl_primitive_desc_destroy(fpd), dnnl_primitive_desc_destroy(bpd);
}

int register_all() {
    struct Entry {
        const char *name;
        Op op;
    } ops[] = {{"conv_fwd", FWD}, {"conv_bwd_w", BWD_W}, {"conv_bwd_d", BWD_D}};
    for (const ConvCase &cc : {kLenet1, kLenet2, kLenet3, kResnet})
        for (const Entry &e : ops) {
            if (e.op == BWD_D && cc.c == 1) continue;  // the first layer needs no backward-data
            std::string tail = "/" + shape_name(cc);
            benchmark::RegisterBenchmark((e.name + std::string("/native") + tail).c_str(), conv_native, cc, e.op)
                ->UseRealTime();
            benchmark::RegisterBenchmark((e.name + std::string("/dnnl") + tail).c_str(), conv_dnnl, cc, e.op)
                ->UseRealTime();
        }
    for (const PoolCase &pc : {PoolCase{128, 6, 28, 28}, PoolCase{128, 16, 10, 10}, PoolCase{64, 64, 32, 32}})
        for (bool bwd : {false, true}) {
            std::string k = bwd ? "maxpool_bwd" : "maxpool_fwd", tail = "/" + pool_name(pc);
            benchmark::RegisterBenchmark((k + "/native" + tail).c_str(), pool_native, pc, bwd)->UseRealTime();
            benchmark::RegisterBenchmark((k + "/dnnl" + tail).c_str(), pool_dnnl, pc, bwd)->UseRealTime();
        }
    return 0;
}

const int registered = register_all();

}  // namespace
