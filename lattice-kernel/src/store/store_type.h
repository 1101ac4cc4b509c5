// The type of a store, fixed at creation.
#pragma once

#include <optional>
#include <string_view>

namespace lattice::kernel {

enum class StoreType { kRoot, kKv, kChat, kFs };

std::string_view StoreTypeName(StoreType type);
std::optional<StoreType> ParseStoreType(std::string_view name);

}  // namespace lattice::kernel
