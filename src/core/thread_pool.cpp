// See include/tinygptv/thread_pool.h.
//
// One job at a time: run() publishes (fn, n, chunk count) under the mutex and bumps a
// generation number; the workers it needs wake up, and they and the calling thread
// claim chunks from an atomic counter until none are left (so a thread slowed down
// by another process just takes fewer chunks). run() returns when every participating
// worker has checked out, so no worker can touch fn after it returns.
//
// Nested or concurrent calls (parallel_for from inside fn, or from a second thread
// while a job runs) do not wait for the pool: they run fn(0, n) on the calling thread.
// An exception thrown by fn stops further chunks from being handed out; the first one
// is rethrown by parallel_for in the calling thread after all workers are done.
#include "tinygptv/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tgv {

namespace {

class Pool {
 public:
  // A build without threads (e.g. WebAssembly) is a pool of one.
  explicit Pool(int n) : size_(threads_supported() ? n : 1) {
    for (int i = 1; i < size_; i++) workers_.emplace_back([this, i] { work(i); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return size_; }

  void run(size_t n, const std::function<void(size_t, size_t)>& fn, size_t min_chunk, int chunks_per_thread) {
    min_chunk = std::max<size_t>(min_chunk, 1);
    const size_t max_chunks = n / min_chunk;  // so that every chunk has >= min_chunk indices
    if (size_ <= 1 || max_chunks <= 1 || in_job_.exchange(true)) {  // small, single-threaded, nested or concurrent
      if (n) fn(0, n);
      return;
    }
    // A few chunks per thread for balance (a thread slowed by another process takes fewer);
    // not many more, each hand-off costs an atomic.
    const size_t chunks = std::min<size_t>(max_chunks, static_cast<size_t>(std::max(chunks_per_thread, 1)) * static_cast<size_t>(size_));
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn;
      n_ = n;
      chunks_ = chunks;
      next_.store(0, std::memory_order_relaxed);
      helpers_ = static_cast<int>(std::min<size_t>(chunks, static_cast<size_t>(size_))) - 1;  // workers 1..helpers_
      pending_ = helpers_;
      error_ = nullptr;
      generation_++;
    }
    cv_.notify_all();
    drain();
    std::exception_ptr error;
    {
      std::unique_lock<std::mutex> lock(mu_);
      done_.wait(lock, [this] { return pending_ == 0; });
      fn_ = nullptr;
      error = error_;
      error_ = nullptr;
    }
    in_job_.store(false);
    if (error) std::rethrow_exception(error);
  }

 private:
  // Claims and runs chunks of the current job until none are left.
  void drain() {
    for (;;) {
      const size_t c = next_.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks_) return;
      const size_t begin = n_ * c / chunks_, end = n_ * (c + 1) / chunks_;
      try {
        (*fn_)(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!error_) error_ = std::current_exception();
        next_.store(chunks_, std::memory_order_relaxed);  // hand out nothing more
      }
    }
  }

  void work(int index) {
    uint64_t seen = 0;
    for (;;) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (index > helpers_) continue;  // this job has too few chunks to need us
      lock.unlock();
      drain();
      lock.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }

  const int size_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_;
  bool stop_ = false;
  uint64_t generation_ = 0;
  // The current job; written under mu_ before generation_ changes, read after.
  const std::function<void(size_t, size_t)>* fn_ = nullptr;
  size_t n_ = 0, chunks_ = 0;
  int helpers_ = 0, pending_ = 0;
  std::exception_ptr error_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> in_job_{false};
};

int default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

std::mutex g_pool_mu;
std::unique_ptr<Pool> g_pool;

Pool& pool() {
  std::lock_guard<std::mutex> lock(g_pool_mu);
  if (!g_pool) g_pool = std::make_unique<Pool>(default_threads());
  return *g_pool;
}

}  // namespace

bool threads_supported() { return TGV_HAVE_THREADS; }

void set_num_threads(int n) {
  std::lock_guard<std::mutex> lock(g_pool_mu);
  g_pool.reset();
  g_pool = std::make_unique<Pool>(n > 0 ? n : default_threads());
}

int num_threads() { return pool().size(); }

void parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn, size_t min_chunk, int chunks_per_thread) {
  pool().run(n, fn, min_chunk, chunks_per_thread);
}

}  // namespace tgv
