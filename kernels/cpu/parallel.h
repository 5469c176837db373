// A small parallel_for over an index range, on plain std::threads.
//
// The range [0, count) is cut into at most `threads` contiguous chunks of at least `grain` items;
// the calling thread runs the first chunk and the others run on threads started for this call and
// joined before it returns. Threads are started per call on purpose: the CPU backend's parallel
// regions are a few per convolution, each worth far more than a thread start, and nothing idles
// (or spins) between them, which leaves the cores to OpenBLAS during its sgemm calls.
// An exception thrown by a chunk is rethrown on the calling thread after all chunks finish.
#pragma once

#include <cstdint>
#include <functional>

namespace octet::kernels {

// body(begin, end) processes items [begin, end).
void parallel_for(int64_t count, int threads, int64_t grain, const std::function<void(int64_t, int64_t)>& body);

// `requested` threads, or every hardware thread when requested is 0 (at least 1).
int resolve_thread_count(int requested);

}  // namespace octet::kernels
