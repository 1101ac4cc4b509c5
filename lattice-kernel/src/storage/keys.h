// The key layout of a store's LevelDB. One leading byte names the table; multi-part keys
// use fixed-width fields (big-endian integers, 32-byte hashes) so they sort correctly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lattice::kernel::keys {

inline constexpr char kIntention = 'i';        // i hash -> StoredIntention
inline constexpr char kWitness = 'w';          // w be64(witness) -> hash
inline constexpr char kAuthorSeq = 'a';        // a author be64(seq) -> hash first seen there
inline constexpr char kAuthorTip = 't';        // t author -> be64(seq) hash (highest seq seen)
inline constexpr char kPending = 'p';          // p hash -> SignedIntention (floating or held)
inline constexpr char kMissing = 'm';          // m missing-hash waiting-hash -> ""
inline constexpr char kPendingByAuthor = 'q';  // q author hash -> be64(parked at, wall ms)
inline constexpr char kHeld = 'h';             // h be64(wall_ms) hash -> "" (stamped in future)
// 'n' is the sync index's table (sync/range_index.h), written in the intention's batch.
inline constexpr char kFork = 'k';             // k author be64(seq) -> ForkProof
inline constexpr char kStanding = 'r';         // r be64(wall_ms) be32(counter) hash -> ""
                                               // (root stores: changes of a member's status)
inline constexpr char kChunkWant = 'c';        // c chunk-hash -> "" (fs stores: cited by an
                                               // applied intention, not in the chunk store)
inline constexpr char kMeta = 'M';             // M name -> value
inline constexpr char kState = 'S';            // S ... -> the state machine's tables

void AppendBigEndian64(std::string* out, uint64_t v);
void AppendBigEndian32(std::string* out, uint32_t v);
uint64_t ReadBigEndian64(std::string_view bytes);
uint32_t ReadBigEndian32(std::string_view bytes);

std::string Intention(std::string_view hash);
std::string Witness(uint64_t witness);
std::string AuthorSeq(std::string_view author, uint64_t seq);
std::string AuthorTip(std::string_view author);
std::string Pending(std::string_view hash);
std::string Missing(std::string_view missing, std::string_view waiting);
std::string MissingPrefix(std::string_view missing);
std::string PendingByAuthor(std::string_view author, std::string_view hash);
std::string PendingByAuthorPrefix(std::string_view author);
std::string Held(uint64_t wall_ms, std::string_view hash);
std::string Fork(std::string_view author, uint64_t seq);
std::string Meta(std::string_view name);
std::string Standing(uint64_t wall_ms, uint32_t counter, std::string_view hash);
std::string Table(char table);  // a one-byte prefix

// The smallest key greater than every key starting with `prefix` (empty when none exists).
std::string PrefixEnd(std::string_view prefix);

}  // namespace lattice::kernel::keys
