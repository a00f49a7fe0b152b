// The thread pool (src/core/thread_pool.cpp): every index exactly once, chunks of at
// least min_chunk, nested and concurrent calls, exceptions.
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tinygptv/thread_pool.h"

namespace {

// Runs parallel_for and checks that [0, n) was covered exactly once in chunks of >= min_chunk.
void check_cover(size_t n, size_t min_chunk) {
  std::unique_ptr<std::atomic<int>[]> hits(new std::atomic<int>[n + 1]);
  for (size_t i = 0; i <= n; i++) hits[i] = 0;
  std::atomic<int> small_chunks{0}, calls{0};
  tgv::parallel_for(n, [&](size_t b, size_t e) {
    calls++;
    if (e - b < min_chunk && !(b == 0 && e == n)) small_chunks++;
    if (b >= e || e > n) small_chunks += 1000;  // empty or out of range: counted as an error too
    for (size_t i = b; i < e && i < n; i++) hits[i]++;
  }, min_chunk);
  int wrong = 0;
  for (size_t i = 0; i < n; i++) wrong += hits[i] != 1;
  CHECK(wrong == 0);
  CHECK(small_chunks == 0);
  if (n == 0) CHECK(calls == 0);
}

}  // namespace

TEST_CASE("parallel_for covers every index exactly once") {
  for (int threads : {1, 2, 3, 8}) {
    tgv::set_num_threads(threads);
    CHECK(tgv::num_threads() == (tgv::threads_supported() ? threads : 1));
    for (size_t n : {0, 1, 2, 15, 16, 17, 31, 33, 100, 1000, 12345})
      for (size_t min_chunk : {0, 1, 16, 1000}) {
        CAPTURE(threads); CAPTURE(n); CAPTURE(min_chunk);
        check_cover(n, min_chunk);
      }
  }
  tgv::set_num_threads(0);
}

TEST_CASE("nested parallel_for runs (serially inside) and covers everything") {
  tgv::set_num_threads(3);
  const size_t outer = 37, inner = 41;
  std::vector<std::atomic<int>> hits(outer * inner);
  for (auto& h : hits) h = 0;
  tgv::parallel_for(outer, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; i++)
      tgv::parallel_for(inner, [&](size_t b2, size_t e2) {
        for (size_t j = b2; j < e2; j++) hits[i * inner + j]++;
      });
  });
  int wrong = 0;
  for (auto& h : hits) wrong += h != 1;
  CHECK(wrong == 0);
  tgv::set_num_threads(0);
}

TEST_CASE("parallel_for from two threads at once") {
  if (!tgv::threads_supported()) {
    MESSAGE("a build without threads: nothing to run concurrently");
    return;
  }
  tgv::set_num_threads(2);
  std::vector<std::atomic<int>> a(5000), b(5000);
  for (auto& h : a) h = 0;
  for (auto& h : b) h = 0;
  auto job = [](std::vector<std::atomic<int>>& v) {
    for (int rep = 0; rep < 20; rep++)
      tgv::parallel_for(v.size(), [&](size_t s, size_t e) { for (size_t i = s; i < e; i++) v[i]++; });
  };
  std::thread other(job, std::ref(b));
  job(a);
  other.join();
  int wrong = 0;
  for (size_t i = 0; i < a.size(); i++) wrong += (a[i] != 20) + (b[i] != 20);
  CHECK(wrong == 0);
  tgv::set_num_threads(0);
}

TEST_CASE("an exception thrown inside fn reaches the caller, and the pool still works") {
  for (int threads : {1, 2, 4}) {
    tgv::set_num_threads(threads);
    CHECK_THROWS_AS(tgv::parallel_for(1000, [](size_t b, size_t e) {
      if (b <= 500 && 500 < e) throw std::runtime_error("boom");
    }), std::runtime_error);
    check_cover(1000, 1);
  }
  tgv::set_num_threads(0);
}
