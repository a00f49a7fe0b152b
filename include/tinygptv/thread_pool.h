// A small fixed pool of std::threads for data-parallel loops. One global pool,
// sized once (--threads, default: the hardware's core count); parallel_for splits
// [0, n) into contiguous chunks and runs fn(begin, end) on them, the calling thread
// included, returning when all are done. Nested calls run serially.
#pragma once
#include <cstddef>
#include <functional>

namespace tgv {

void set_num_threads(int n);  // n <= 0: hardware_concurrency
int num_threads();
void parallel_for(size_t n, const std::function<void(size_t begin, size_t end)>& fn, size_t min_chunk = 1);

}  // namespace tgv
