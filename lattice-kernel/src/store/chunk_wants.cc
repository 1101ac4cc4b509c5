#include "store/chunk_wants.h"

#include <leveldb/write_batch.h>

#include <set>

#include "lattice/common/status.h"
#include "dag/intention.h"
#include "lattice/v1/fs.pb.h"
#include "storage/keys.h"

namespace lattice::kernel {
namespace {

constexpr size_t kHashBytes = 32;

std::string WantKey(std::string_view hash) {
  std::string key = keys::Table(keys::kChunkWant);
  key.append(hash);
  return key;
}

}  // namespace

std::vector<std::string> ChunksCitedBy(std::string_view op_type, std::string_view payload) {
  std::vector<std::string> cited;
  if (op_type != kOpFs) return cited;
  v1::FsPayload fs;
  if (!fs.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return cited;
  std::set<std::string_view> seen;
  for (const auto& op : fs.ops()) {
    if (!op.has_write()) continue;
    auto cite = [&](const v1::FsExtent& extent) {
      if (extent.hash().size() != kHashBytes) return;  // a hole, or refused by the state
      if (seen.insert(extent.hash()).second) cited.push_back(extent.hash());
    };
    for (const auto& extent : op.write().extents()) cite(extent);
    // A write in delta form cites its splices' new extents; the rest of its version is its
    // base's, which the base's intention (applied before it) cited.
    for (const auto& splice : op.write().splices()) {
      for (const auto& extent : splice.extents()) cite(extent);
    }
  }
  return cited;
}

absl::StatusOr<size_t> RecordChunkWants(BatchView& view, const ChunkStore& chunks,
                                        const std::vector<std::string>& cited) {
  if (cited.empty()) return 0;
  LATTICE_ASSIGN_OR_RETURN(auto missing, chunks.Missing(cited));
  for (const auto& hash : missing) view.Put(WantKey(hash), "");
  return missing.size();
}

absl::StatusOr<std::vector<std::string>> ListChunkWants(const Database& db, size_t max,
                                                        std::string_view after) {
  std::vector<std::string> wants;
  if (max == 0) return wants;
  std::string prefix = keys::Table(keys::kChunkWant);
  std::string start = after.empty() ? prefix : WantKey(after) + std::string(1, '\0');
  LATTICE_RETURN_IF_ERROR(db.Scan(start, keys::PrefixEnd(prefix),
                                  [&](std::string_view key, std::string_view) {
                                    wants.emplace_back(key.substr(1));
                                    return wants.size() < max;
                                  }));
  return wants;
}

absl::Status AddChunkWants(Database& db, const std::vector<std::string>& hashes) {
  if (hashes.empty()) return absl::OkStatus();
  leveldb::WriteBatch batch;
  for (const auto& hash : hashes) batch.Put(WantKey(hash), "");
  return db.Write(&batch, /*sync=*/false);
}

absl::Status DropChunkWants(Database& db, const std::vector<std::string>& hashes) {
  if (hashes.empty()) return absl::OkStatus();
  leveldb::WriteBatch batch;
  for (const auto& hash : hashes) batch.Delete(WantKey(hash));
  return db.Write(&batch, /*sync=*/false);
}

}  // namespace lattice::kernel
