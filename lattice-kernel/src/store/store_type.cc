#include "store/store_type.h"

namespace lattice::kernel {

std::string_view StoreTypeName(StoreType type) {
  switch (type) {
    case StoreType::kRoot: return "root";
    case StoreType::kKv: return "kv";
    case StoreType::kChat: return "chat";
    case StoreType::kFs: return "fs";
  }
  return "unknown";
}

std::optional<StoreType> ParseStoreType(std::string_view name) {
  if (name == "root") return StoreType::kRoot;
  if (name == "kv") return StoreType::kKv;
  if (name == "chat") return StoreType::kChat;
  if (name == "fs") return StoreType::kFs;
  return std::nullopt;
}

}  // namespace lattice::kernel
