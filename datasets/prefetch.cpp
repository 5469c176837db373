#include "datasets/prefetch.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace octet {

SamplePrefetcher::SamplePrefetcher(int64_t count, Dims sample_dims, int threads, int prefetch_batches, Produce produce)
    : count_(count),
      sample_dims_(std::move(sample_dims)),
      sample_numel_(numel(sample_dims_)),
      prefetch_batches_(prefetch_batches),
      produce_(std::move(produce)) {
  OCTET_CHECK(count_ >= 0 && sample_numel_ > 0, "prefetcher: invalid sample count ", count_, " or sample dims ",
              to_string(sample_dims_));
  OCTET_CHECK(threads >= 0, "decoding threads must not be negative, got ", threads);
  OCTET_CHECK(prefetch_batches >= 0, "prefetch batches must not be negative, got ", prefetch_batches);
  int64_t wanted = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  wanted = std::min(wanted, count_);
  workers_.reserve(static_cast<size_t>(wanted));
  for (int64_t i = 0; i < wanted; ++i) workers_.emplace_back([this] { worker_loop(); });
}

SamplePrefetcher::~SamplePrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_available_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

int64_t SamplePrefetcher::capacity() const {
  const int64_t ahead = prefetch_batches_ * batch_size_;
  return assembling_ ? std::max(ahead, batch_size_) : ahead;
}

bool SamplePrefetcher::can_issue() const {
  return !paused_ && !stop_issuing_ && issued_ < count_ && buffers_in_use_ < capacity();
}

std::vector<float> SamplePrefetcher::take_buffer() {
  std::vector<float> buffer;
  if (!free_buffers_.empty()) {
    buffer = std::move(free_buffers_.back());
    free_buffers_.pop_back();
  } else {
    buffer.resize(static_cast<size_t>(sample_numel_));
  }
  ++buffers_in_use_;
  peak_buffers_ = std::max(peak_buffers_, buffers_in_use_ + static_cast<int64_t>(free_buffers_.size()));
  return buffer;
}

void SamplePrefetcher::release_buffer(std::vector<float>& buffer) {
  if (buffer.empty()) return;
  --buffers_in_use_;
  // Keep it for reuse only while the kept and used buffers stay within the bound (a smaller batch
  // size than before lowers it).
  if (buffers_in_use_ + static_cast<int64_t>(free_buffers_.size()) < std::max(capacity(), batch_size_))
    free_buffers_.push_back(std::move(buffer));
  buffer = std::vector<float>();
}

void SamplePrefetcher::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    work_available_.wait(lock, [this] { return stopping_ || can_issue(); });
    if (stopping_) return;
    const int64_t index = issued_++;
    slots_.emplace_back();
    slots_.back().buffer = take_buffer();
    float* out = slots_.back().buffer.data();
    ++in_flight_;
    lock.unlock();

    SlotState state = SlotState::kFailed;
    int64_t label = -1;
    std::exception_ptr error;
    try {
      state = produce_(index, out, label) ? SlotState::kReady : SlotState::kLeftOut;
    } catch (...) {
      error = std::current_exception();
    }

    lock.lock();
    --in_flight_;
    // The slot is still there: the consumer removes only finished slots and reset() waits for
    // in_flight_ to drop to zero.
    Slot& slot = slots_[static_cast<size_t>(index - front_index_)];
    slot.state = state;
    slot.label = label;
    slot.error = error;
    if (state != SlotState::kReady) {
      release_buffer(slot.buffer);
      if (state == SlotState::kFailed) stop_issuing_ = true;
      work_available_.notify_all();
    }
    sample_done_.notify_all();
  }
}

bool SamplePrefetcher::next(int64_t max_batch, Batch& batch) {
  OCTET_CHECK(max_batch > 0, "batch size must be positive, got ", max_batch);
  std::unique_lock<std::mutex> lock(mutex_);
  if (failure_) std::rethrow_exception(failure_);
  batch_size_ = max_batch;
  assembling_ = true;
  work_available_.notify_all();

  // Walk the slots from the front until max_batch samples are ready or the source ends. Slots stay
  // in the deque (and their buffers in use) until they are copied out below.
  std::vector<size_t> ready;
  size_t position = 0;
  while (static_cast<int64_t>(ready.size()) < max_batch && front_index_ + static_cast<int64_t>(position) < count_) {
    sample_done_.wait(lock, [&] { return position < slots_.size() && slots_[position].state != SlotState::kPending; });
    const Slot& slot = slots_[position];
    if (slot.state == SlotState::kFailed) {
      failure_ = slot.error;
      assembling_ = false;
      std::rethrow_exception(failure_);
    }
    if (slot.state == SlotState::kReady) ready.push_back(position);
    ++position;
  }

  const int64_t n = static_cast<int64_t>(ready.size());
  if (n > 0) {
    Dims dims{n};
    dims.insert(dims.end(), sample_dims_.begin(), sample_dims_.end());
    if (batch.images.type() != DataType::kFloat32 || batch.images.dims() != dims)
      batch.images = Tensor(DataType::kFloat32, dims);
    batch.labels.resize(static_cast<size_t>(n));
    // Finished slots are not touched by workers, and emplace_back keeps references to deque
    // elements valid, so the copy runs unlocked while workers go on with later samples.
    std::vector<const float*> sources;
    sources.reserve(ready.size());
    for (size_t i = 0; i < ready.size(); ++i) {
      sources.push_back(slots_[ready[i]].buffer.data());
      batch.labels[i] = slots_[ready[i]].label;
    }
    lock.unlock();
    float* out = batch.images.data<float>();
    const size_t sample_bytes = static_cast<size_t>(sample_numel_) * sizeof(float);
    for (size_t i = 0; i < sources.size(); ++i)
      std::memcpy(out + i * static_cast<size_t>(sample_numel_), sources[i], sample_bytes);
    lock.lock();
  }
  for (size_t i = 0; i < position; ++i) {
    release_buffer(slots_.front().buffer);
    slots_.pop_front();
    ++front_index_;
  }
  assembling_ = false;
  work_available_.notify_all();
  return n > 0;
}

void SamplePrefetcher::reset() {
  std::unique_lock<std::mutex> lock(mutex_);
  paused_ = true;
  sample_done_.wait(lock, [this] { return in_flight_ == 0; });
  for (Slot& slot : slots_) release_buffer(slot.buffer);
  slots_.clear();
  front_index_ = 0;
  issued_ = 0;
  stop_issuing_ = false;
  failure_ = nullptr;
  paused_ = false;
  work_available_.notify_all();
}

int64_t SamplePrefetcher::peak_buffered_samples() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return peak_buffers_;
}

}  // namespace octet
