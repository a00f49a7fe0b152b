// A small fixed pool of std::threads for data-parallel loops. One global pool,
// sized once (--threads, default: the hardware's core count); parallel_for splits
// [0, n) into contiguous chunks of at least min_chunk indices (chunks_per_thread per
// thread, claimed dynamically) and runs fn(begin, end) on them, the calling thread included,
// returning when all are done. Every index is in exactly one chunk.
// Nested calls (from inside fn) and calls from a second thread while a job runs
// execute fn(0, n) serially on the calling thread. If fn throws, no further chunks
// start and the first exception is rethrown from parallel_for once all are done.
// set_num_threads must not be called while a parallel_for is running.
#pragma once
#include <cstddef>
#include <functional>

namespace tgv {

void set_num_threads(int n);  // n <= 0: hardware_concurrency
// false in a build without threads (CMake's TGV_HAVE_THREADS, off for WebAssembly): the
// pool is then always one thread, the caller's, and num_threads() is 1 whatever was set.
bool threads_supported();
int num_threads();
void parallel_for(size_t n, const std::function<void(size_t begin, size_t end)>& fn, size_t min_chunk = 1,
                  int chunks_per_thread = 4);

}  // namespace tgv
