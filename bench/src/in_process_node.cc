#include "in_process_node.h"

#include <fmt/format.h>

#include <atomic>
#include <thread>
#include <vector>

#include "baselines.h"
#include "lattice/common/ids.h"
#include "lattice/common/status.h"

namespace lattice::bench {

absl::StatusOr<std::unique_ptr<InProcessNode>> InProcessNode::Open(const std::string& data_dir,
                                                                   const std::string& node_name,
                                                                   const std::string& store_name) {
  std::unique_ptr<InProcessNode> out(new InProcessNode());
  kernel::NodeOptions options;
  options.data_dir = data_dir;
  options.name = node_name;
  LATTICE_ASSIGN_OR_RETURN(out->node_, kernel::Node::Open(options));
  auto descriptor = out->node_->Resolve(store_name);
  if (!descriptor.ok() && absl::IsNotFound(descriptor.status())) {
    descriptor = out->node_->CreateStore(store_name, kernel::StoreType::kKv,
                                         out->node_->own_mesh_id());
  }
  if (!descriptor.ok()) return descriptor.status();
  out->store_ = out->node_->StoreById(descriptor->id);
  if (out->store_ == nullptr) {
    return absl::InternalError(fmt::format("store {} is not open", store_name));
  }
  out->store_id_ = FormatStoreId(descriptor->id);
  return out;
}

InProcessNode::~InProcessNode() = default;

absl::Status InProcessNode::FillTo(uint64_t intentions, int threads, size_t value_bytes,
                                   const std::function<void(uint64_t)>& progress) {
  std::atomic<uint64_t> next{store_->last_witness()};
  std::atomic<bool> failed{false};
  absl::Status first_error;
  std::mutex error_mutex;
  const std::string value = Filler(value_bytes, 11);
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&] {
      while (!failed.load(std::memory_order_relaxed)) {
        uint64_t n = next.fetch_add(1);
        if (n >= intentions) return;
        auto receipt = store_->WriteKv({{fmt::format("fill/{:010}", n), value, false}});
        if (!receipt.ok()) {
          std::lock_guard lock(error_mutex);
          if (first_error.ok()) first_error = receipt.status();
          failed = true;
          return;
        }
      }
    });
  }
  uint64_t step = std::max<uint64_t>(intentions / 10, 1);
  uint64_t reported = store_->last_witness() / step;
  while (true) {
    bool all_done = next.load() >= intentions + static_cast<uint64_t>(threads) || failed.load();
    uint64_t now = store_->last_witness();
    if (now / step > reported && progress) {
      reported = now / step;
      progress(now);
    }
    if (all_done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& w : writers) w.join();
  return first_error;
}

absl::StatusOr<LoadResult> InProcessNode::MeasureWrites(const LoadOptions& load,
                                                        size_t value_bytes,
                                                        const std::string& key_prefix) {
  const std::string value = Filler(value_bytes, 5);
  kernel::Store* store = store_;
  return RunLoad(load, [&, store](int index) -> absl::StatusOr<Operation> {
    auto seq = std::make_shared<uint64_t>(0);
    std::string prefix = fmt::format("{}/{:03}/", key_prefix, index);
    return Operation([store, seq, prefix, &value]() -> absl::Status {
      return store->WriteKv({{fmt::format("{}{:012}", prefix, (*seq)++), value, false}}).status();
    });
  });
}

}  // namespace lattice::bench
