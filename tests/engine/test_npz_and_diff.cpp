// engine/npz.h (NumPy archives) and engine/tensor_diff.h (octet compare's statistics), on hand-made
// tensors whose answers are worked out in the comments.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "engine/error.h"
#include "engine/npz.h"
#include "engine/tensor_diff.h"
#include "tests/support/error_text.h"

namespace octet {
namespace {

Tensor floats(const Dims& dims, std::initializer_list<float> values) {
  Tensor t(DataType::kFloat32, dims);
  std::copy(values.begin(), values.end(), t.data<float>());
  return t;
}

using test::error_of;

TEST(Npz, RoundTripKeepsNamesOrderTypesAndBytes) {
  Tensor labels(DataType::kInt64, {3});
  labels.data<int64_t>()[0] = 7;
  labels.data<int64_t>()[2] = -1;
  const NamedTensors tensors = {{"logits", floats({2, 2}, {1.5f, -2.0f, 0.0f, 3.25f})}, {"labels", labels}};
  const std::string bytes = encode_npz(tensors);
  EXPECT_EQ(bytes.substr(0, 4), std::string("PK\x03\x04", 4));  // a zip's first local header
  const NamedTensors back = decode_npz(bytes, "mem.npz");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].first, "logits");
  EXPECT_EQ(back[1].first, "labels");
  EXPECT_EQ(back[0].second.dims(), (Dims{2, 2}));
  EXPECT_EQ(back[0].second.data<float>()[3], 3.25f);
  EXPECT_EQ(back[1].second.type(), DataType::kInt64);
  EXPECT_EQ(back[1].second.data<int64_t>()[2], -1);
  EXPECT_EQ(encode_npz(back), bytes) << "fixed dates: the same tensors give the same archive";
}

TEST(Npz, DamagedArchivesAreRefusedWithTheFileName) {
  std::string bytes = encode_npz({{"x", floats({2}, {1.0f, 2.0f})}});
  std::string flipped = bytes;
  flipped[flipped.find("\x93NUMPY") + 20] ^= 0x01;  // a header byte of the stored .npy
  EXPECT_NE(error_of([&] { decode_npz(flipped, "bad.npz"); }).find("'bad.npz': member 'x.npy' fails its CRC-32"),
            std::string::npos);
  EXPECT_NE(error_of([&] { decode_npz("not a zip at all, just text", "text.npz"); }).find("no end-of-directory"),
            std::string::npos);
  EXPECT_NE(error_of([&] { decode_npz(bytes.substr(0, bytes.size() - 30), "cut.npz"); }).find("cut.npz"),
            std::string::npos);
  EXPECT_NE(error_of([&] { encode_npz({{"x", floats({1}, {0.f})}, {"x", floats({1}, {0.f})}}); }).find("unique"),
            std::string::npos);
}

TEST(TensorDiff, StatisticsOfAWorkedExample) {
  // x - r = {0, 0.5, -1, 2}; |r| = {1, 2, 4, 2}: absdiff {0, 0.5, 1, 2}, reldiff {0, 0.25, 0.25, 1}.
  const Tensor r = floats({4}, {1.0f, 2.0f, -4.0f, 2.0f});
  const Tensor x = floats({4}, {1.0f, 2.5f, -5.0f, 4.0f});
  Tolerance t;
  t.atol = 0.6;
  t.rtol = 0.3;
  const TensorDiff d = diff_tensors(x, r, t, "test");
  EXPECT_EQ(d.elements, 4);
  EXPECT_DOUBLE_EQ(d.max_abs, 2.0);
  EXPECT_DOUBLE_EQ(d.mean_abs, 0.875);
  EXPECT_DOUBLE_EQ(d.median_abs, 0.75);  // (0.5 + 1) / 2
  EXPECT_DOUBLE_EQ(d.max_rel, 1.0);
  EXPECT_DOUBLE_EQ(d.median_rel, 0.25);
  // ||x - r||^2 = 0 + 0.25 + 1 + 4 = 5.25; ||r||^2 = 1 + 4 + 16 + 4 = 25.
  EXPECT_DOUBLE_EQ(d.rel_l2, std::sqrt(5.25 / 25.0));
  EXPECT_DOUBLE_EQ(d.sqnr_db, 10.0 * std::log10(25.0 / 5.25));
  // <x, r> = 1 + 5 + 20 + 8 = 34; ||x||^2 = 1 + 6.25 + 25 + 16 = 48.25.
  EXPECT_DOUBLE_EQ(d.cosine, 34.0 / std::sqrt(48.25 * 25.0));
  // Elementwise: only the last element (absdiff 2 > 0.6, reldiff 1 > 0.3) fails.
  EXPECT_EQ(d.failing, 1);
  EXPECT_FALSE(d.passed);
  t.stat = ErrorStat::kMedian;  // median absdiff 0.75 > 0.6, but median reldiff 0.25 <= 0.3
  EXPECT_TRUE(diff_tensors(x, r, t, "test").passed);
  t.stat = ErrorStat::kMax;  // max absdiff 2 > 0.6 and max reldiff 1 > 0.3
  EXPECT_FALSE(diff_tensors(x, r, t, "test").passed);
}

TEST(TensorDiff, EqualZerosAndNans) {
  const Tensor zeros = floats({3}, {0.0f, 0.0f, 0.0f});
  const TensorDiff same = diff_tensors(zeros, zeros, Tolerance{}, "zeros");
  EXPECT_TRUE(same.passed);
  EXPECT_EQ(same.rel_l2, 0.0);
  EXPECT_TRUE(std::isinf(same.sqnr_db));
  EXPECT_EQ(same.cosine, 1.0);
  // Against a zero reference any difference is infinitely relative.
  const TensorDiff off = diff_tensors(floats({3}, {0.0f, 1e-6f, 0.0f}), zeros, Tolerance{}, "zeros");
  EXPECT_TRUE(std::isinf(off.max_rel));
  EXPECT_TRUE(off.passed) << "1e-6 is within atol 1e-5";
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tolerance loose;
  loose.atol = 1e9;
  loose.stat = ErrorStat::kMean;
  const TensorDiff with_nan = diff_tensors(floats({3}, {0.0f, nan, 0.0f}), zeros, loose, "nan");
  EXPECT_EQ(with_nan.nans, 1);
  EXPECT_FALSE(with_nan.passed) << "a NaN fails every check";
  EXPECT_NE(error_of([&] { diff_tensors(floats({2}, {0, 0}), zeros, loose, "output 'y'"); }).find("output 'y': dims"),
            std::string::npos);
}

}  // namespace
}  // namespace octet
