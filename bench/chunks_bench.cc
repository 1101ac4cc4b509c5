// lattice-chunks-bench: what the shared drive sends between nodes when a large file changes
// a little (issue 15, "Replication: a 1 GiB file with 1 MiB changed in the middle, and a
// 64 KiB insertion at its start: bytes sent between nodes at most twice the changed chunks").
// Cuts a pseudo-random file with the real chunker, applies each edit, and counts the chunks
// a peer that holds the old version lacks, the bytes of the ChunkRequest/ChunkResponse
// messages that carry them, and the fs.v1 intention of the new version (every extent listed,
// and as splices of the old version, the smaller of which the planner sends); plus the
// chunker's and the chunk store's throughput.
//
//   lattice-chunks-bench [--mib N] [--store-mib N] [--dir DIR]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <unistd.h>

#include <algorithm>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "lattice/common/chunker.h"
#include "lattice/common/fs_limits.h"
#include "lattice/v1/fs.pb.h"
#include "lattice/v1/replication.pb.h"
#include "replication/replication_limits.h"
#include "state/fs_content.h"
#include "storage/chunk_store.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMiB = 1024 * 1024;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// CPU time of this thread: the chunker's and the hash's throughput without the time other
// processes on a shared machine take.
double CpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void Fill(std::string& out, size_t from, size_t size, uint64_t seed) {
  uint64_t state = seed * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = from; i < from + size; i += 8) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    size_t n = std::min<size_t>(8, from + size - i);
    std::memcpy(out.data() + i, &state, n);
  }
}

struct Cut {
  std::vector<std::string_view> chunks;
  double chunk_seconds = 0;
};

Cut CutAll(std::string_view data) {
  lattice::Chunker chunker;
  Cut cut;
  double start = CpuSeconds();
  while (!data.empty()) {
    size_t n = chunker.NextCut(data);
    cut.chunks.push_back(data.substr(0, n));
    data.remove_prefix(n);
  }
  cut.chunk_seconds = CpuSeconds() - start;
  return cut;
}

struct Version {
  std::vector<std::string> hashes;
  std::vector<uint64_t> lengths;
  double hash_seconds = 0;
};

Version HashAll(const Cut& cut) {
  Version v;
  double start = CpuSeconds();
  for (auto chunk : cut.chunks) {
    v.hashes.push_back(lattice::ChunkHash(chunk));
    v.lengths.push_back(chunk.size());
  }
  v.hash_seconds = CpuSeconds() - start;
  return v;
}

google::protobuf::RepeatedPtrField<lattice::v1::FsExtent> Extents(const Version& v) {
  google::protobuf::RepeatedPtrField<lattice::v1::FsExtent> out;
  for (size_t i = 0; i < v.hashes.size(); ++i) {
    auto* extent = out.Add();
    extent->set_hash(v.hashes[i]);
    extent->set_length(v.lengths[i]);
  }
  return out;
}

struct Intention {
  size_t full_bytes = 0;   // the fs.v1 payload listing every extent of the new version
  size_t delta_bytes = 0;  // the same write as splices of the old version (FsWrite.base)
  size_t splices = 0;
  size_t Sent() const { return std::min(full_bytes, delta_bytes); }  // what the planner sends
};

// The fs.v1 payload of the new version, in both forms the planner chooses between.
Intention IntentionPayloadBytes(const Version& old_version, const Version& new_version) {
  lattice::v1::FsPayload payload;
  auto* write = payload.add_ops()->mutable_write();
  write->set_inode(1ull << 40);
  uint64_t size = 0;
  for (uint64_t length : new_version.lengths) size += length;
  write->set_size(size);
  write->add_replaces(std::string(36, 'v'));
  write->mutable_mtime()->set_sec(1'700'000'000);
  write->mutable_mtime()->set_nsec(123'456'789);
  *write->mutable_ctime() = write->mtime();
  lattice::v1::FsPayload delta = payload;
  *write->mutable_extents() = Extents(new_version);
  Intention out;
  out.full_bytes = payload.ByteSizeLong();
  auto* d = delta.mutable_ops(0)->mutable_write();
  d->set_base(std::string(36, 'v'));
  for (auto& splice :
       lattice::kernel::fs::FsSplicesBetween(Extents(old_version), Extents(new_version))) {
    *d->add_splices() = std::move(splice);
    ++out.splices;
  }
  // Plus the dep by which the intention cites the base's intention (when not already cited).
  out.delta_bytes = delta.ByteSizeLong() + 2 + 32;
  return out;
}

struct Transfer {
  size_t new_chunks = 0;
  uint64_t new_chunk_bytes = 0;
  uint64_t message_bytes = 0;  // ChunkRequest + ChunkResponse, as the fetcher packs them
};

// What a peer holding `old_version` fetches to hold `new_version`.
Transfer Fetch(const Version& old_version, const Version& new_version, const Cut& new_cut) {
  namespace limits = lattice::kernel::replication::limits;
  std::unordered_set<std::string> held(old_version.hashes.begin(), old_version.hashes.end());
  Transfer t;
  std::vector<size_t> wanted;
  std::unordered_set<std::string> asked;
  for (size_t i = 0; i < new_version.hashes.size(); ++i) {
    if (held.count(new_version.hashes[i]) || !asked.insert(new_version.hashes[i]).second) continue;
    wanted.push_back(i);
    ++t.new_chunks;
    t.new_chunk_bytes += new_version.lengths[i];
  }
  for (size_t start = 0; start < wanted.size(); start += limits::kMaxChunksPerMessage) {
    size_t end = std::min(wanted.size(), start + limits::kMaxChunksPerMessage);
    lattice::v1::PeerMessage request;
    request.mutable_chunk_request()->set_store_id(std::string(16, 's'));
    request.mutable_chunk_request()->set_request_id(start + 1);
    lattice::v1::PeerMessage response;
    response.mutable_chunk_response()->set_store_id(std::string(16, 's'));
    response.mutable_chunk_response()->set_request_id(start + 1);
    for (size_t k = start; k < end; ++k) {
      request.mutable_chunk_request()->add_hashes(new_version.hashes[wanted[k]]);
      auto* chunk = response.mutable_chunk_response()->add_chunks();
      chunk->set_hash(new_version.hashes[wanted[k]]);
      chunk->set_data(std::string(new_cut.chunks[wanted[k]]));
    }
    response.mutable_chunk_response()->set_last(true);
    t.message_bytes += request.ByteSizeLong() + response.ByteSizeLong();
  }
  return t;
}

void Report(const char* name, uint64_t changed_bytes, const Version& old_version,
            const Version& new_version, const Cut& new_cut) {
  Transfer t = Fetch(old_version, new_version, new_cut);
  Intention intention = IntentionPayloadBytes(old_version, new_version);
  auto ratio = [&](uint64_t bytes) {
    return static_cast<double>(bytes) / static_cast<double>(t.new_chunk_bytes);
  };
  double all_ratio = ratio(t.message_bytes + intention.Sent());
  std::printf("%s\n", name);
  std::printf("  bytes changed by the edit            %12llu\n",
              static_cast<unsigned long long>(changed_bytes));
  std::printf("  chunks of the new version            %12zu\n", new_version.hashes.size());
  std::printf("  changed chunks (the peer lacks them) %12zu  %llu bytes (%.2fx the edit)\n",
              t.new_chunks, static_cast<unsigned long long>(t.new_chunk_bytes),
              static_cast<double>(t.new_chunk_bytes) / static_cast<double>(changed_bytes));
  std::printf("  chunk messages sent (request+reply)  %12llu bytes  %.3fx the changed chunks\n",
              static_cast<unsigned long long>(t.message_bytes), ratio(t.message_bytes));
  std::printf("  fs.v1 intention, every extent listed %12zu bytes\n", intention.full_bytes);
  std::printf("  fs.v1 intention, splices of the base %12zu bytes (%zu splices)\n",
              intention.delta_bytes, intention.splices);
  std::printf("  all bytes sent, full list (before)   %12llu bytes  %.3fx the changed chunks\n",
              static_cast<unsigned long long>(t.message_bytes + intention.full_bytes),
              ratio(t.message_bytes + intention.full_bytes));
  std::printf("  all bytes sent, as planned           %12llu bytes  %.3fx the changed chunks %s\n",
              static_cast<unsigned long long>(t.message_bytes + intention.Sent()), all_ratio,
              all_ratio <= 2.0 ? "(<= 2: met)" : "(> 2: NOT met)");
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = 1024;
  size_t store_mib = 256;
  std::string dir = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--mib") mib = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--store-mib") store_mib = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--dir") dir = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: %s [--mib N] [--store-mib N] [--dir DIR]\n", argv[0]);
      return 2;
    }
  }
  if (mib < 4) mib = 4;
  size_t size = mib * kMiB;
  std::printf("lattice-chunks-bench: a %zu MiB pseudo-random file, chunks %zu/%zu/%zu KiB "
              "(min/avg/max)\n\n",
              mib, lattice::limits::kFsChunkMinBytes / 1024, lattice::limits::kFsChunkAvgBytes / 1024,
              lattice::limits::kFsChunkMaxBytes / 1024);
  std::string base(size, '\0');
  Fill(base, 0, size, 1);
  Cut base_cut = CutAll(base);
  Version base_version = HashAll(base_cut);
  double mean = static_cast<double>(size) / static_cast<double>(base_cut.chunks.size());
  std::printf("chunker   %8.0f MB/s of CPU time (%zu chunks, mean %.1f KiB)\n",
              static_cast<double>(size) / 1e6 / base_cut.chunk_seconds, base_cut.chunks.size(),
              mean / 1024);
  std::printf("BLAKE2b   %8.0f MB/s of CPU time\n\n", static_cast<double>(size) / 1e6 / base_version.hash_seconds);

  {
    std::string edited = base;
    size_t at = size / 2;
    Fill(edited, at, kMiB, 2);
    Cut cut = CutAll(edited);
    Report("1 MiB changed in the middle", kMiB, base_version, HashAll(cut), cut);
  }
  std::printf("\n");
  {
    std::string edited(64 * 1024, '\0');
    Fill(edited, 0, edited.size(), 3);
    edited += base;
    Cut cut = CutAll(edited);
    Report("64 KiB inserted at the start", 64 * 1024, base_version, HashAll(cut), cut);
  }

  if (store_mib > 0) {
    std::string store_dir = dir + "/lattice-chunks-bench-" + std::to_string(::getpid());
    {
      auto store = lattice::kernel::ChunkStore::Open(store_dir);
      if (!store.ok()) {
        std::fprintf(stderr, "chunk store: %s\n", std::string(store.status().message()).c_str());
        return 1;
      }
      uint64_t bytes = 0;
      auto start = Clock::now();
      for (size_t i = 0; i < base_cut.chunks.size() && bytes < store_mib * kMiB; ++i) {
        auto put = (*store)->Put(base_version.hashes[i], base_cut.chunks[i]);
        if (!put.ok()) {
          std::fprintf(stderr, "put: %s\n", std::string(put.status().message()).c_str());
          return 1;
        }
        bytes += base_cut.chunks[i].size();
      }
      auto synced = (*store)->Sync();
      double put_seconds = Seconds(start);
      if (!synced.ok()) return 1;
      start = Clock::now();
      uint64_t read = 0;
      for (size_t i = 0; i < base_cut.chunks.size() && read < bytes; ++i) {
        auto data = (*store)->Read(base_version.hashes[i], 0, base_cut.chunks[i].size());
        if (!data.ok()) return 1;
        read += data->size();
      }
      double read_seconds = Seconds(start);
      std::printf("\nchunk store: put+sync %.0f MB/s, read (verified) %.0f MB/s over %llu MiB "
                  "(wall clock)\n",
                  static_cast<double>(bytes) / 1e6 / put_seconds,
                  static_cast<double>(read) / 1e6 / read_seconds,
                  static_cast<unsigned long long>(bytes / kMiB));
      store->reset();
      start = Clock::now();
      auto reopened = lattice::kernel::ChunkStore::Open(store_dir);
      if (!reopened.ok()) return 1;
      std::printf("chunk store: reopen (index rebuilt) %.3f s for %llu chunks\n", Seconds(start),
                  static_cast<unsigned long long>((*reopened)->chunk_count()));
    }
    std::filesystem::remove_all(store_dir);
  }
  return 0;
}
