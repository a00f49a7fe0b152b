// See include/tinygptv/thread_pool.h. Workers wait on a condition variable for a
// job generation number; each job is split into one chunk per thread.
#include "tinygptv/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace tgv {

namespace {

class Pool {
 public:
  explicit Pool(int n) {
    for (int i = 1; i < n; i++) workers_.emplace_back([this, i] { work(i); });
    size_ = n;
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

  void run(size_t n, const std::function<void(size_t, size_t)>& fn, size_t min_chunk) {
    size_t parts = std::min<size_t>(static_cast<size_t>(size_), (n + min_chunk - 1) / std::max<size_t>(min_chunk, 1));
    if (parts <= 1 || in_job_.exchange(true)) {  // small, nested or concurrent: run here
      if (n) fn(0, n);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn;
      n_ = n;
      parts_ = parts;
      pending_ = static_cast<int>(parts) - 1;
      generation_++;
    }
    cv_.notify_all();
    chunk(0);
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return pending_ == 0; });
    fn_ = nullptr;
    in_job_ = false;
  }

 private:
  void chunk(size_t part) {
    size_t begin = n_ * part / parts_, end = n_ * (part + 1) / parts_;
    if (begin < end) (*fn_)(begin, end);
  }
  void work(int index) {
    uint64_t seen = 0;
    for (;;) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (static_cast<size_t>(index) >= parts_) continue;
      lock.unlock();
      chunk(static_cast<size_t>(index));
      lock.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  int size_ = 1;
  std::mutex mu_;
  std::condition_variable cv_, done_;
  bool stop_ = false;
  uint64_t generation_ = 0;
  const std::function<void(size_t, size_t)>* fn_ = nullptr;
  size_t n_ = 0, parts_ = 0;
  int pending_ = 0;
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

void set_num_threads(int n) {
  std::lock_guard<std::mutex> lock(g_pool_mu);
  g_pool.reset();
  g_pool = std::make_unique<Pool>(n > 0 ? n : default_threads());
}

int num_threads() { return pool().size(); }

void parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn, size_t min_chunk) {
  pool().run(n, fn, min_chunk);
}

}  // namespace tgv
