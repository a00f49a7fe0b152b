// See bpe.h. The word is a linked list over its original positions: a merge keeps
// the left node (with the merged id) and unlinks the right one, so node order is
// text order and a heap keyed by (rank, left position) pops one rank's pairs left
// to right. Entries that went stale (a node merged away or changed) are skipped by
// re-checking the pair when it is popped.
#include "tokenizer/bpe.h"

#include <functional>
#include <queue>
#include <utility>

namespace tgv {

void bpe_merge(std::vector<int>& word, const MergeTable& merges) {
  const int n = static_cast<int>(word.size());
  if (n < 2) return;
  std::vector<int> next(n), prev(n);
  for (int i = 0; i < n; i++) { next[i] = i + 1; prev[i] = i - 1; }

  using Entry = std::pair<int, int>;  // (rank, position of the left symbol)
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
  auto queue_pair = [&](int left) {
    if (left < 0 || next[left] >= n) return;
    if (const Merge* m = merges.find(word[left], word[next[left]])) heap.push({m->rank, left});
  };
  for (int i = 0; i + 1 < n; i++) queue_pair(i);

  std::vector<int> pass, merged;
  while (!heap.empty()) {
    const int rank = heap.top().first;
    pass.clear();
    while (!heap.empty() && heap.top().first == rank) {
      pass.push_back(heap.top().second);
      heap.pop();
    }
    merged.clear();
    for (int p : pass) {  // increasing positions
      if (word[p] < 0 || next[p] >= n) continue;
      const int q = next[p];
      const Merge* m = merges.find(word[p], word[q]);
      if (!m || m->rank != rank) continue;  // stale entry
      word[p] = m->result;
      word[q] = -1;
      next[p] = next[q];
      if (next[q] < n) prev[next[q]] = p;
      merged.push_back(p);
    }
    for (int p : merged) {  // the pairs the new symbols form, after the whole pass
      queue_pair(prev[p]);
      queue_pair(p);
    }
  }

  int out = 0;
  for (int i = 0; i < n; i = next[i]) word[out++] = word[i];
  word.resize(out);
}

}  // namespace tgv
