// SamplePrefetcher: produces samples on a small thread pool, a bounded number ahead of the consumer,
// and hands them out as batches in index order.
//
// The unit of work is one sample: produce(index, out, label) writes numel(sample_dims) floats for
// sample `index` (decode + preprocess, for image sources). Workers take indices in increasing order;
// the consumer collects them in the same order, so a batch holds the same samples, bit for bit,
// whatever the number of threads or the timing.
//
// Memory bound, in samples, with B the batch size of the latest next() and P = prefetch_batches:
//   at most P * B sample buffers are decoded (or being decoded) ahead while the consumer is away,
//   at most max(P, 1) * B while next() assembles a batch (the batch being assembled included);
//   the Batch handed to the caller holds one batch more. So a source never holds more than
//   (P + 1) batches, whatever the dataset's size. P = 0 decodes on demand, inside next().
// Prefetching starts with the first next() (the batch size is unknown before) and, after reset(),
// resumes at once from sample 0 with the last batch size.
//
// Bad samples: produce() returns false for a sample left out (skip_bad); the consumer passes over
// it and fills the batch from later samples. An exception thrown by produce() is rethrown by next()
// on the consumer thread when the consumer reaches that sample (the batch being assembled is
// dropped): samples are examined in order, so the error is always the first bad sample, whatever the
// threads and timing. After that, next() keeps rethrowing it until reset().
//
// Threads wait on condition variables (no polling). next() and reset() belong to one consumer
// thread. reset() lets samples in flight finish (a sample is the cancellation unit), drops everything
// decoded and restarts. The destructor stops and joins the workers.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "datasets/batch_source.h"

namespace octet {

class SamplePrefetcher {
 public:
  // Fills `out` and `label` for sample `index`; false when the sample is left out. Called from the
  // worker threads, each index by one thread at a time; must be safe to call concurrently for
  // different indices.
  using Produce = std::function<bool(int64_t index, float* out, int64_t& label)>;

  // threads: 0 = std::thread::hardware_concurrency(); never more threads than samples.
  SamplePrefetcher(int64_t count, Dims sample_dims, int threads, int prefetch_batches, Produce produce);
  ~SamplePrefetcher();
  SamplePrefetcher(const SamplePrefetcher&) = delete;
  SamplePrefetcher& operator=(const SamplePrefetcher&) = delete;

  // Up to max_batch produced samples, in index order, into batch.images [n, sample_dims...] and
  // batch.labels; false when no sample is left. Reuses batch.images when its shape already fits.
  bool next(int64_t max_batch, Batch& batch);
  void reset();

  int threads() const { return static_cast<int>(workers_.size()); }
  // The most sample buffers held at once so far (decoded, in flight or kept for reuse): the
  // measured side of the memory bound above.
  int64_t peak_buffered_samples() const;

 private:
  enum class SlotState { kPending, kReady, kLeftOut, kFailed };
  struct Slot {
    SlotState state = SlotState::kPending;
    std::vector<float> buffer;
    int64_t label = -1;
    std::exception_ptr error;
  };

  void worker_loop();
  bool can_issue() const;  // callers hold mutex_
  int64_t capacity() const;
  std::vector<float> take_buffer();
  void release_buffer(std::vector<float>& buffer);

  const int64_t count_;
  const Dims sample_dims_;
  const int64_t sample_numel_;
  const int64_t prefetch_batches_;
  const Produce produce_;

  mutable std::mutex mutex_;
  std::condition_variable work_available_;  // workers wait here
  std::condition_variable sample_done_;     // the consumer and reset() wait here
  std::deque<Slot> slots_;                  // samples front_index_, front_index_ + 1, ... issued so far
  int64_t front_index_ = 0;                 // the next sample the consumer takes
  int64_t issued_ = 0;                      // the next sample a worker takes
  int64_t batch_size_ = 0;                  // of the latest next(); 0 before the first
  bool assembling_ = false;                 // the consumer is inside next()
  bool paused_ = false;                     // reset() is draining the workers
  bool stop_issuing_ = false;               // a sample failed: nothing after it is needed
  bool stopping_ = false;                   // the destructor runs
  int64_t in_flight_ = 0;
  int64_t buffers_in_use_ = 0;
  std::vector<std::vector<float>> free_buffers_;
  int64_t peak_buffers_ = 0;
  std::exception_ptr failure_;  // rethrown by next() until reset()
  std::vector<std::thread> workers_;
};

}  // namespace octet
