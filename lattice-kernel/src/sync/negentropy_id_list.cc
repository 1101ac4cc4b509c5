#include "sync/negentropy_id_list.h"

#include <cstdint>
#include <unordered_map>
#include <utility>

namespace lattice::kernel::sync {

IdListAnswer AnswerIdList(const std::vector<Item>& ours, const std::vector<ItemId>& theirs,
                          const Bound& lower, const Bound& upper,
                          const OutgoingMessage* reply_to) {
  IdListAnswer answer;
  std::unordered_map<ItemId, size_t, ItemIdHash> our_index;
  our_index.reserve(ours.size());
  for (size_t i = 0; i < ours.size(); ++i) our_index.emplace(ours[i].id, i);

  // Which of their ids we hold, and whether the ones we share come in our order.
  std::vector<bool> common(ours.size(), false);
  std::vector<int64_t> their_match(theirs.size(), -1);
  bool in_order = true;
  int64_t last_common = -1;
  for (size_t p = 0; p < theirs.size(); ++p) {
    auto it = our_index.find(theirs[p]);
    if (it == our_index.end()) {
      answer.need.push_back(theirs[p]);
      continue;
    }
    their_match[p] = static_cast<int64_t>(it->second);
    common[it->second] = true;
    if (static_cast<int64_t>(it->second) <= last_common) in_order = false;
    last_common = static_cast<int64_t>(it->second);
  }
  for (size_t i = 0; i < ours.size(); ++i) {
    if (!common[i]) answer.have.push_back(ours[i].id);
  }
  if (reply_to == nullptr) return answer;

  Piece full{lower, upper, Mode::kIdList, {}, {}};
  for (const Item& item : ours) full.ids.push_back(item.id);
  if (!in_order) {
    answer.reply.push_back(std::move(full));
    return answer;
  }

  // Gaps between consecutive common items ("anchors"): gap g lies between anchor g-1 and
  // anchor g. Our extra items fall in known gaps; so do theirs, by their list's order.
  std::vector<size_t> anchors;
  for (size_t i = 0; i < ours.size(); ++i) {
    if (common[i]) anchors.push_back(i);
  }
  const size_t gaps = anchors.size() + 1;
  std::vector<bool> gap_has_theirs(gaps, false), gap_has_ours(gaps, false);
  size_t commons_seen = 0;
  for (size_t p = 0; p < theirs.size(); ++p) {
    if (their_match[p] >= 0) {
      ++commons_seen;
    } else {
      gap_has_theirs[commons_seen] = true;
    }
  }
  commons_seen = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    if (common[i]) {
      ++commons_seen;
    } else {
      gap_has_ours[commons_seen] = true;
    }
  }
  std::vector<Piece> pieces;
  for (size_t g = 0; g < gaps; ++g) {
    if (gap_has_theirs[g]) {
      // Their extras may lie anywhere in the gap: cover it from anchor to anchor,
      // listing both anchors, so the bounds fall where no item of theirs can hide.
      size_t last = g;
      while (last + 1 < gaps && gap_has_theirs[last + 1]) ++last;
      size_t begin = g > 0 ? anchors[g - 1] : 0;
      size_t end = last < anchors.size() ? anchors[last] + 1 : ours.size();
      pieces.push_back(TightPiece(lower, upper, ours, begin, end));
      g = last;
    } else if (gap_has_ours[g]) {
      size_t begin = g > 0 ? anchors[g - 1] + 1 : 0;
      size_t end = g < anchors.size() ? anchors[g] : ours.size();
      pieces.push_back(TightPiece(lower, upper, ours, begin, end));
    }
  }
  std::vector<Piece> full_answer{std::move(full)};
  answer.reply = reply_to->CostOf(full_answer) <= reply_to->CostOf(pieces)
                     ? std::move(full_answer)
                     : std::move(pieces);
  return answer;
}

}  // namespace lattice::kernel::sync
