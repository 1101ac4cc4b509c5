// What this machine can do without Lattice, measured in the same run as the kernel because
// its synced figures move more than tenfold under other load: LevelDB's own durable write
// rates and Ed25519 signing and verification (libsodium).
#pragma once

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "load_generator.h"

namespace lattice::bench {

struct LevelDbBaselineOptions {
  std::string dir;             // a fresh database is made here and removed afterwards
  int threads = 1;
  size_t rows_per_write = 1;   // 1: db->Put; more: one WriteBatch of that many rows
  size_t key_bytes = 24;
  size_t value_bytes = 128;
  LoadOptions load;            // `clients` is ignored: `threads` counts
};

// Writes with sync=true on a plain LevelDB (default options and Env) through the common
// load generator. result.ops counts writes; multiply by rows_per_write for rows.
absl::StatusOr<LoadResult> MeasureLevelDbSyncWrites(const LevelDbBaselineOptions& options);

// Signatures of a `message_bytes` message per second, one thread.
double MeasureEd25519SignRate(std::chrono::milliseconds duration, size_t message_bytes = 200);
// Verifications of such a signature per second, one thread.
double MeasureEd25519VerifyRate(std::chrono::milliseconds duration, size_t message_bytes = 200);

// `n` bytes of printable filler that depends on `seed`, so values do not all compress alike.
std::string Filler(size_t n, uint64_t seed);

}  // namespace lattice::bench
