#include "kernels/cpu/parallel.h"

#include <algorithm>
#include <exception>
#include <thread>
#include <vector>

#include "engine/error.h"

namespace octet::kernels {

int resolve_thread_count(int requested) {
  OCTET_CHECK(requested >= 0, "thread count ", requested, " must be 0 (all hardware threads) or positive");
  if (requested > 0) return requested;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void parallel_for(int64_t count, int threads, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  if (count <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(threads, (count + grain - 1) / grain));
  if (chunks == 1) {
    body(0, count);
    return;
  }
  // Chunk i covers [i * count / chunks, (i + 1) * count / chunks): sizes differ by at most one.
  auto chunk_begin = [&](int64_t i) { return i * count / chunks; };
  std::vector<std::exception_ptr> errors(static_cast<size_t>(chunks));
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(chunks - 1));
  for (int64_t i = 1; i < chunks; ++i) {
    workers.emplace_back([&, i] {
      try {
        body(chunk_begin(i), chunk_begin(i + 1));
      } catch (...) {
        errors[static_cast<size_t>(i)] = std::current_exception();
      }
    });
  }
  try {
    body(chunk_begin(0), chunk_begin(1));
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (std::thread& worker : workers) worker.join();
  for (const std::exception_ptr& error : errors)
    if (error) std::rethrow_exception(error);
}

}  // namespace octet::kernels
