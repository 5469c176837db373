// Helpers shared by the CPU kernel tests: seeded random data and the rounding bound the fast paths
// are held to.
//
// Bound. Every Conv/Gemm/MatMul output is s = sum_{i < n} t_i with n = K + 2 terms: K products
// (alpha * a_i * b_i for Gemm), the bias (beta * C for Gemm) and the residual. An implementation
// evaluates each term with at most two rounded multiplications and adds the n terms in some order
// with n - 1 rounded additions (a fused multiply-add only removes roundings). By Higham, "Accuracy
// and Stability of Numerical Algorithms", Lemma 3.1 and (3.4)-(3.5), each term then carries a
// relative perturbation theta with |theta| <= gamma_{n+1} = gamma_{K+3}, so
//     |s_hat - s| <= gamma_{K+3} * T,   T = sum_i |t_i|,   gamma_m = m*u / (1 - m*u),  u = 2^-24,
// whatever the summation order. The activations used with these bounds are 1-Lipschitz (Relu, Clip,
// LeakyRelu with |alpha| <= 1); LeakyRelu's multiply rounds once more, which fits in one more
// gamma step (|s_hat| <= (1 + gamma) T). The reference and the fast path each satisfy the bound
// against the exact s, so elementwise
//     |y_fast - y_ref| <= 2 * gamma_{K+4} * T.
// T is computed by the tests in double from the operands (sum of absolute products), independently
// of octet's kernels.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace octet::test {

inline double unit_roundoff() { return 1.0 / 16777216.0; }  // 2^-24, float

inline double gamma_n(int64_t n) {
  const double nu = static_cast<double>(n) * unit_roundoff();
  return nu / (1.0 - nu);
}

// |y_fast - y_ref| allowed for a dot product of length `dot_length` with absolute-term sum T.
inline double fast_path_bound(int64_t dot_length, double abs_terms) {
  return 2.0 * gamma_n(dot_length + 4) * abs_terms;
}

inline std::vector<float> random_values(size_t count, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> values(count);
  for (float& v : values) v = dist(engine);
  return values;
}

}  // namespace octet::test
