// SPDX-License-Identifier: MIT
// Our blocked, packed CPU GEMM (BLIS-style): register-blocked micro-kernels chosen at run time (AVX-512,
// AVX2+FMA, NEON on AArch64, or portable C++), packing routines, a macro-kernel for callers that produce
// their own packed panels (the fused im2col of the forward), and a parallel general GEMM. Row-major C
// throughout.
#pragma once
#include <cstdint>

namespace dcn::cpu {

// The register-blocked inner kernel: C (mr x nr, row stride ldc) = [C +] A_panel * B_panel, with
// A_panel[k * mr + i] and B_panel[k * nr + j] for k < kc (the packed layouts below).
template <typename T>
struct MicroKernel {
  int mr;
  int nr;
  void (*fn)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate);
  const char* isa;
  // The same product with A read in place from mr rows of a row-major matrix, A(i, k) at a[i * lda + k],
  // summed in the same order as `fn` (identical results). Null where the instruction set has none; then
  // callers pack A.
  void (*fn_rows)(int64_t kc, const T* a, int64_t lda, const T* b, T* c, int64_t ldc, bool accumulate);
  // The first `rows` < mr rows of fn's product, all nr columns (a packed panel's last rows, m % mr of them),
  // each element the same sum as fn's, then added to C the same way (identical results), without the
  // FMAs of the panel's zero rows. Null where the instruction set has none; then the macro-kernel runs fn
  // into a buffer and copies the rows.
  void (*fn_part)(int rows, int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate);
  // fn_rows, which meanwhile prefetches `pf_lines` (at most kc / 4) cache lines from `pf` on into L2, one every 4
  // steps: the same loads, FMAs and stores, so the same results. For a B that streams from beyond L2 (the next
  // panel comes in while this one is used). Null where fn_rows is.
  void (*fn_rows_pf)(int64_t kc, const T* a, int64_t lda, const T* b, T* c, int64_t ldc, bool accumulate, const T* pf,
                     int64_t pf_lines);
  // fn (A and B packed), which meanwhile prefetches as fn_rows_pf does, and with write intent the first nr
  // values of `c_rows` rows from `c_next` on (ldc apart: the next C tile), one row every 8 steps (c_rows at most
  // kc / 8): the same results as fn. Null where the instruction set has none.
  void (*fn_pf)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, bool accumulate, const T* pf, int64_t pf_lines,
                const T* c_next, int64_t c_rows);
};

enum class GemmIsa { kAuto, kGeneric, kAvx2, kAvx512, kNeon };

// Selects the micro-kernels (kAuto: the best this CPU supports). Returns false, changing nothing, when
// the CPU lacks the instruction set. A test hook: kernels read the choice once per call.
bool set_gemm_isa(GemmIsa isa);
// "avx512", "avx2", "neon" or "generic": the micro-kernels in use.
const char* gemm_isa_name();

template <typename T>
const MicroKernel<T>& micro_kernel();

// A test hook: with `on` false micro_kernel() gives the kernels without fn_rows and fn_rows_pf, so that callers pack A
// (the same results: the contract of fn_rows), for tests that compare the two ways of reading A. On by default.
void set_gemm_rows_a(bool on);
bool gemm_rows_a_enabled();

// Cache blocking of the reduction dimension (rows of a packed B block).
constexpr int64_t kGemmKc = 256;

// C (m x n, row stride ldc) = A * B, or C += A * B with `accumulate`, for one reduction block of kc: A packed by
// pack_a with the micro-kernel's mr (12 on AVX-512, 6 on AVX2; panel stride a_panel_stride), B read in place, element
// (p, j) at b[p * ldb + j], n a multiple of the kernel's nr (32, 16). With the AVX-512 or AVX2 float micro-kernels
// only (returns false, doing nothing, under any other ISA or n): each element is the same sum as macro_kernel's with B
// packed by pack_b (the same FMA chain from zero, then one addition to C), without the copy of B.
bool gemm_b_rows_f32(int64_t m, int64_t n, int64_t kc, const float* a, int64_t a_panel_stride, const float* b,
                     int64_t ldb, float* c, int64_t ldc, bool accumulate);

// C (m x n) = A * B, or C += A * B with `accumulate`, for one reduction block of kc: A read in place as the columns
// of a row-major matrix, element (i, p) at a[p * lda + i], B packed by pack_b with nr = 32 (panel j at b + j * kc *
// 32), n a multiple of 32. AVX-512 float only (returns false, doing nothing, under any other ISA): each element is
// the same sum as macro_kernel's with A packed by pack_a, without the copy of A.
bool gemm_a_cols_f32(int64_t m, int64_t n, int64_t kc, const float* a, int64_t lda, const float* b, float* c,
                     int64_t ldc, bool accumulate);

// Packs the m x k matrix A (element (i, p) at a[i * rs + p * cs]) into ceil(m / mr) panels of [k][mr],
// panel stride k * mr, rows beyond m zero-filled. `out` holds ceil(m / mr) * mr * k elements.
template <typename T>
void pack_a(int64_t m, int64_t k, const T* a, int64_t rs, int64_t cs, int mr, T* out);

// Packs the k x n matrix B (element (p, j) at b[p * rs + j * cs]) into ceil(n / nr) panels of [k][nr],
// panel stride k * nr, columns beyond n zero-filled.
template <typename T>
void pack_b(int64_t k, int64_t n, const T* b, int64_t rs, int64_t cs, int nr, T* out);

// Loop order of the macro-kernel: which packed panel stays in L1 while the other kind streams past.
enum class MacroOrder {
  kBPanelInL1,  // for each B panel, every A panel (A block in L2): the general GEMM
  kAPanelInL1,  // for each A panel, every B panel (B block in L2): tall A streamed once, small B block
};

// C (m x n, ldc) = [C +] A * B over one reduction block of kc, from packed panels: A panel r starts at
// a + r * a_panel_stride, B panel s at b + s * kc * nr. Single-threaded. With `prefetch_c`, the rows of the
// next tile of C are prefetched before each micro-kernel call: for a C that is cold (in L3 at best, or
// written fresh), which the micro-kernel otherwise loads and stores after its FMAs. Same results either way.
template <typename T>
void macro_kernel(const MicroKernel<T>& uk, int64_t m, int64_t n, int64_t kc, const T* a, int64_t a_panel_stride,
                  const T* b, T* c, int64_t ldc, bool accumulate, MacroOrder order = MacroOrder::kBPanelInL1,
                  bool prefetch_c = false);

// macro_kernel with the order kBPanelInL1 and prefetch_c, for a packed B that streams from beyond L2: each
// micro-kernel call on B panel s also prefetches its share of panel s + 1 into L2 (uk.fn_pf), those on the last
// panel their share of the b_next_lines lines at b_next (the B panels of the caller's next call; none where b_next is
// null). The same results as macro_kernel (where uk.fn_pf is null, it is macro_kernel).
template <typename T>
void macro_kernel_pf(const MicroKernel<T>& uk, int64_t m, int64_t n, int64_t kc, const T* a, int64_t a_panel_stride,
                     const T* b, T* c, int64_t ldc, bool accumulate, const T* b_next, int64_t b_next_lines);

// C (m x n, ldc) = [C +] A * B with A (i, p) at a[i * rsa + p * csa] and B (p, j) at b[p * rsb + j * csb],
// parallel over the thread pool. Every element of C is summed in the same order whatever the number of
// threads. With `apacked` non-null, A is taken from it instead (pack_a layout over all m x k, mr of `uk`).
// With `bpacked` non-null, B is taken from it instead (pack_b_blocks layout of all k x n, nr of `uk`).
template <typename T>
void gemm(const MicroKernel<T>& uk, int64_t m, int64_t n, int64_t k, const T* a, int64_t rsa, int64_t csa,
          const T* apacked, const T* b, int64_t rsb, int64_t csb, T* c, int64_t ldc, bool accumulate,
          const T* bpacked = nullptr);

// C (m x n, ldc) = [C +] A * B with A row-major, A(i, p) at a[i * lda + p], read by the micro-kernel in
// place (uk.fn_rows, which must be non-null: no packing of A at all), and B from pack_b_blocks. Rows m up
// to ceil(m / mr) * mr of A must be readable (their results are dropped). Parallel like gemm, and every
// element of C is summed in the same order as gemm with a packed A (identical results). With `prefetch_b`
// (for a packed B larger than L2, read from L3 or memory), each micro-kernel call on a B panel also prefetches
// its share of the next panel into L2 (uk.fn_rows_pf): the same results.
template <typename T>
void gemm_rows_a(const MicroKernel<T>& uk, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* bpacked,
                 T* c, int64_t ldc, bool accumulate, bool prefetch_b = false);

// B (k x n, element (p, j) at b[p * rs + j * cs]) packed once for gemm's `bpacked`: for each reduction
// block of min(kGemmKc, k) rows starting at p0, pack_b of that block at out + p0 * n_pad, n_pad =
// ceil(n / nr) * nr. `out` holds k * n_pad elements. For a B used by many gemm calls.
template <typename T>
void pack_b_blocks(int64_t k, int64_t n, const T* b, int64_t rs, int64_t cs, int nr, T* out);

}  // namespace dcn::cpu
