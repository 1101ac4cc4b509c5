// Negentropy reconciliation figures (issues 7 and 18): for sets of random ids stamped over
// a year that differ in a given number of ids, the bytes, round trips and CPU per side of
// a reconciliation over the persistent range index (LevelDB, with its resident levels),
// beside the same engine over an in-memory set (SortedItems) in the same run, with the
// ratio of their CPU; then what the index costs: adding items, reopening LevelDB, and
// loading the resident levels at open.
//
//   lattice-negentropy-bench                        the three sets
//   lattice-negentropy-bench --sets 100000:10 --rounds 5
//   lattice-negentropy-bench --resident-buckets 0   the index without resident levels
//   lattice-negentropy-bench --no-quiet-compaction  the index as a bulk load leaves it, before
//                                                   the store's compaction once writes stop
//
// "Differing in d" means a symmetric difference of d ids, half held only by the initiator
// and half only by the responder. Round trips count the responder's replies. CPU is each
// side's thread CPU time, summed over its messages; the figures are medians over rounds.
// Each round syncs the in-memory sets, then the indexes three times: 'first' right after
// reopening both (LevelDB's caches cold, resident levels just loaded, no leaf cached),
// 'steady' after emptying the indexes' leaf caches (LevelDB warm: a store that has been
// serving, syncing with a peer it differs from in new places), and 'warm' as it is left.
#include <leveldb/write_batch.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "sync/index_batch.h"
#include "storage/database.h"
#include "store/store.h"
#include "sync/index_compaction.h"
#include "sync/negentropy.h"
#include "sync/range_index.h"
#include "sync/resident_trie.h"
#include "sync/sorted_items.h"

namespace lattice::kernel::sync {
namespace {

constexpr uint64_t kYearMs = 365ull * 24 * 3600 * 1000;
constexpr uint64_t kStartMs = 1'700'000'000'000ull;
constexpr size_t kAddBatch = 1000;

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double WallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

[[noreturn]] void Fail(std::string_view what, const absl::Status& status) {
  fmt::print(stderr, "{}: {}\n", std::string(what), status.ToString());
  std::exit(1);
}

struct Sets {
  std::vector<Item> common, only_initiator, only_responder;
  std::unordered_set<std::string> initiator_ids, responder_ids;  // of the extras
};

Item RandomItem(std::mt19937_64& rng) {
  Item item;
  item.timestamp = kStartMs + rng() % kYearMs;
  for (size_t i = 0; i < kIdBytes; i += 8) {
    uint64_t v = rng();
    std::memcpy(item.id.data() + i, &v, 8);
  }
  return item;
}

Sets MakeSets(uint64_t items, uint64_t differences, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Sets sets;
  uint64_t only_a = differences / 2;
  uint64_t only_b = differences - only_a;
  uint64_t common = items - std::max(only_a, only_b);
  for (uint64_t i = 0; i < common; ++i) sets.common.push_back(RandomItem(rng));
  for (uint64_t i = 0; i < only_a; ++i) {
    sets.only_initiator.push_back(RandomItem(rng));
    sets.initiator_ids.insert(std::string(IdBytes(sets.only_initiator.back().id)));
  }
  for (uint64_t i = 0; i < only_b; ++i) {
    sets.only_responder.push_back(RandomItem(rng));
    sets.responder_ids.insert(std::string(IdBytes(sets.only_responder.back().id)));
  }
  return sets;
}

// Opened as a store's database is (its memtable size, bloom filters, file system).
std::unique_ptr<Database> OpenDb(const std::string& dir) {
  auto db = Database::Open(dir);
  if (!db.ok()) Fail("open " + dir, db.status());
  return std::move(*db);
}

// Adds `items` in batches of kAddBatch, as the kernel's group commit would: each batch
// committed, then published to the resident levels. Returns the seconds it took.
double AddItems(Database& db, ResidentTrie& trie, const std::vector<Item>& items,
                bool compact_when_quiet) {
  RangeIndex index;
  // As the store's commits do (Store::Options::sync_index_adds_before_compaction).
  IndexCompactionSchedule compactions(Store::Options().sync_index_adds_before_compaction);
  const KvReader& committed = db;
  double start = WallSeconds();
  for (size_t begin = 0; begin < items.size(); begin += kAddBatch) {
    leveldb::WriteBatch batch;
    IndexBatch writer(committed, &batch);
    uint64_t added = 0;
    for (size_t i = begin; i < std::min(items.size(), begin + kAddBatch); ++i) {
      auto add = index.Add(writer, items[i].timestamp, items[i].id);
      if (!add.ok()) Fail("add", add.status());
      added += *add ? 1 : 0;
    }
    if (auto s = db.Write(&batch, /*sync=*/false); !s.ok()) Fail("write", s);
    IndexUpdate update = writer.Update(added);
    const uint64_t leaves_written = update.leaves_written();
    if (auto s = trie.Publish(std::move(update), committed); !s.ok()) Fail("publish", s);
    if (compactions.Add(leaves_written, trie.ItemsHeld())) {
      auto [start, end] = IndexTableRange(index.options().prefix);
      if (db.CompactInBackground(std::move(start), std::move(end))) compactions.Started();
    }
  }
  const double seconds = WallSeconds() - start;
  // And once the writes stop (Store::Options::sync_index_quiet_ms later): here at once, after
  // the compaction still running, and not counted in the adds.
  if (compact_when_quiet && compactions.DueWhenQuiet(trie.ItemsHeld())) {
    auto [range_start, range_end] = IndexTableRange(index.options().prefix);
    db.Compact(range_start, range_end);
  }
  return seconds;
}

// One side's persistent index: its LevelDB and resident levels, as a kernel holds them.
struct IndexedSide {
  explicit IndexedSide(std::string directory) : dir(std::move(directory)) {}

  std::string dir;
  std::unique_ptr<Database> db;
  std::unique_ptr<ResidentTrie> trie;
  double open_ms = 0;  // LevelDB's reopen
  double load_ms = 0;  // reading the resident levels at open

  void Reopen(size_t max_buckets) {
    trie.reset();
    if (db != nullptr) {
      if (auto s = db->FlushMemtable(); !s.ok()) Fail("flush", s);
    }
    db.reset();
    double start = WallSeconds();
    db = OpenDb(dir);
    open_ms = (WallSeconds() - start) * 1e3;
    start = WallSeconds();
    trie = std::make_unique<ResidentTrie>(RangeIndexOptions{}, max_buckets);
    if (max_buckets > 0) {
      if (auto s = trie->Load(*db); !s.ok()) Fail("load resident levels", s);
    }
    load_ms = (WallSeconds() - start) * 1e3;
  }
};

// What the kernel makes per message: a pinned LevelDB reader and the index over it, which
// starts in the resident levels of that moment.
struct PinnedReader : RangeIndexReader {
  explicit PinnedReader(const IndexedSide& side)
      : PinnedReader(side.trie->Current(), Pin(*side.db)) {}
  PinnedReader(std::shared_ptr<const ResidentLevels> levels, std::unique_ptr<KvReader> kv)
      : RangeIndexReader(*kv, std::move(levels)), kv_(std::move(kv)) {}
  static std::unique_ptr<KvReader> Pin(const Database& db) {
    auto kv = db.Pin();
    if (!kv.ok()) Fail("pin", kv.status());
    return std::move(*kv);
  }
  std::unique_ptr<KvReader> kv_;
};

struct Outcome {
  uint64_t bytes = 0;
  uint64_t round_trips = 0;
  double initiator_cpu = 0;
  double responder_cpu = 0;
  uint64_t initiator_reads = 0;  // LevelDB reads (gets and scans) of the index
  uint64_t responder_reads = 0;
  bool exact = false;
};

uint64_t ReadsOf(const std::unique_ptr<PinnedReader>& reader) { return reader->reads(); }
uint64_t ReadsOf(const SortedItems*) { return 0; }

// Runs one reconciliation; `make_a` / `make_b` make an ItemSource per message.
template <typename MakeA, typename MakeB>
Outcome Reconcile(const Sets& sets, MakeA make_a, MakeB make_b, const NegentropyOptions& opts) {
  Outcome outcome;
  auto initiator = NegentropySession::Create(Role::kInitiator, opts);
  auto responder = NegentropySession::Create(Role::kResponder, opts);
  if (!initiator.ok() || !responder.ok()) std::abort();
  std::unordered_set<std::string> have, need;
  double t0 = ThreadCpuSeconds();
  auto a = make_a();
  auto message = initiator->Initiate(*a);
  outcome.initiator_cpu += ThreadCpuSeconds() - t0;
  outcome.initiator_reads += ReadsOf(a);
  if (!message.ok()) Fail("initiate", message.status());
  std::string next = *message;
  while (true) {
    outcome.bytes += next.size();
    t0 = ThreadCpuSeconds();
    auto b = make_b();
    auto answer = responder->Reconcile(*b, next);
    outcome.responder_cpu += ThreadCpuSeconds() - t0;
    outcome.responder_reads += ReadsOf(b);
    if (!answer.ok()) Fail("responder", answer.status());
    ++outcome.round_trips;
    outcome.bytes += answer->reply->size();
    t0 = ThreadCpuSeconds();
    auto a2 = make_a();
    auto step = initiator->Reconcile(*a2, *answer->reply);
    outcome.initiator_cpu += ThreadCpuSeconds() - t0;
    outcome.initiator_reads += ReadsOf(a2);
    if (!step.ok()) Fail("initiator", step.status());
    for (const auto& id : step->have) have.insert(std::string(IdBytes(id)));
    for (const auto& id : step->need) need.insert(std::string(IdBytes(id)));
    if (!step->reply.has_value()) break;
    next = *step->reply;
  }
  outcome.exact = have == sets.initiator_ids && need == sets.responder_ids;
  return outcome;
}

// Per-round figures of one way of holding the sets.
struct Rounds {
  std::vector<double> initiator_ms, responder_ms, initiator_reads, responder_reads;
  uint64_t bytes = 0, round_trips = 0;
  bool exact = true;

  void Add(const Outcome& outcome) {
    initiator_ms.push_back(outcome.initiator_cpu * 1e3);
    responder_ms.push_back(outcome.responder_cpu * 1e3);
    initiator_reads.push_back(static_cast<double>(outcome.initiator_reads));
    responder_reads.push_back(static_cast<double>(outcome.responder_reads));
    bytes = std::max(bytes, outcome.bytes);
    round_trips = std::max(round_trips, outcome.round_trips);
    exact = exact && outcome.exact;
  }
};

struct SetSpec {
  uint64_t items = 0;
  uint64_t differences = 0;
};

std::string Human(uint64_t n) {
  if (n >= 1'000'000 && n % 1'000'000 == 0) return fmt::format("{}M", n / 1'000'000);
  if (n >= 1000 && n % 1000 == 0) return fmt::format("{}k", n / 1000);
  return std::to_string(n);
}

std::string WithCommas(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

absl::StatusOr<SetSpec> ParseSet(const std::string& text) {
  auto colon = text.find(':');
  if (colon == std::string::npos) return absl::InvalidArgumentError("a set is ITEMS:DIFFERENCES");
  SetSpec spec{std::stoull(text.substr(0, colon)), std::stoull(text.substr(colon + 1))};
  if (spec.differences > spec.items) {
    return absl::InvalidArgumentError("a set cannot differ in more ids than it holds");
  }
  return spec;
}

}  // namespace
}  // namespace lattice::kernel::sync

int main(int argc, char** argv) {
  using namespace lattice::kernel::sync;
  CLI::App app("Negentropy reconciliation: the persistent index beside an in-memory set");
  std::vector<std::string> set_texts{"100000:10", "1000000:100", "1000000:1000"};
  std::string dir = "/tmp/lattice-negentropy-bench";
  uint64_t seed = 7;
  size_t frame = 0;
  int rounds = 3;
  size_t max_buckets = ResidentTrie::kDefaultMaxBuckets;
  uint64_t detect = NegentropyOptions().detect_max_items;
  uint64_t parts = NegentropyOptions().max_plan_parts;
  bool compact = false;
  bool no_quiet = false;
  app.add_option("--sets", set_texts, "sets as ITEMS:DIFFERENCES");
  app.add_option("--rounds", rounds, "rounds per set (medians are reported)")
      ->check(CLI::Range(1, 100));
  app.add_option("--resident-buckets", max_buckets,
                 "the index's resident levels hold at most this many buckets (0: none)");
  app.add_option("--dir", dir, "scratch directory for the index databases");
  app.add_option("--seed", seed);
  app.add_option("--frame-limit", frame, "frame size limit (0 = none, as the reference)");
  app.add_option("--detect-max-items", detect);
  app.add_option("--max-plan-parts", parts);
  app.add_flag("--compact", compact,
               "compact LevelDB after the bulk load (a long-lived store's steady state)");
  app.add_flag("--no-quiet-compaction", no_quiet,
               "skip the index compaction a store starts once writes stop (a sync within "
               "Store::Options::sync_index_quiet_ms of the bulk load)");
  CLI11_PARSE(app, argc, argv);

  NegentropyOptions opts;
  opts.frame_size_limit = frame;
  opts.detect_max_items = detect;
  opts.max_plan_parts = parts;
  opts.max_incoming_bytes = 256u << 20;
  opts.max_ranges = 1u << 24;

  std::vector<SetSpec> specs;
  for (const auto& text : set_texts) {
    auto spec = ParseSet(text);
    if (!spec.ok()) Fail(text, spec.status());
    specs.push_back(*spec);
  }

  fmt::print("index: the persistent range index in LevelDB, with resident levels of at most {} "
             "buckets\nmemory: the same engine over SortedItems (a sorted vector with prefix "
             "sums), the in-memory\nbaseline: the authors' reference is not built here\n"
             "ids 32 bytes, stamps over one year (ms), frame limit {}, medians of {} rounds\n\n",
             max_buckets, frame == 0 ? std::string("none") : std::to_string(frame), rounds);
  fmt::print("{:>12} {:>19} {:>11}\n", "", "bytes", "round trips");
  fmt::print("{:>12} {:>9} {:>9} {:>5} {:>5} {:>6}\n", "items/diff", "index", "memory", "index",
             "mem", "exact");
  std::vector<std::string> cpu_lines, round_lines, cost_lines;
  for (const SetSpec& spec : specs) {
    Sets sets = MakeSets(spec.items, spec.differences, seed);
    SortedItems memory_a, memory_b;
    for (const auto* list : {&sets.common, &sets.only_initiator}) {
      for (const Item& item : *list) memory_a.Insert(item);
    }
    for (const auto* list : {&sets.common, &sets.only_responder}) {
      for (const Item& item : *list) memory_b.Insert(item);
    }
    memory_a.Seal();
    memory_b.Seal();

    // The common items are indexed once and copied to both sides, then each side's own.
    std::filesystem::remove_all(dir);
    std::string common_dir = dir + "/common";
    std::filesystem::create_directories(common_dir);
    double add_seconds = 0;
    {
      auto db = OpenDb(common_dir);
      ResidentTrie trie;
      add_seconds = AddItems(*db, trie, sets.common, !no_quiet);
      if (compact) db->Compact("", "");
      if (auto s = db->FlushMemtable(); !s.ok()) Fail("flush", s);  // as a kernel's clean stop
    }
    IndexedSide side_a(dir + "/a"), side_b(dir + "/b");
    for (auto [side, own] : {std::pair{&side_a, &sets.only_initiator},
                             std::pair{&side_b, &sets.only_responder}}) {
      std::filesystem::copy(common_dir, side->dir, std::filesystem::copy_options::recursive);
      side->Reopen(ResidentTrie::kDefaultMaxBuckets);
      AddItems(*side->db, *side->trie, *own, !no_quiet);
      if (compact) side->db->Compact("", "");
    }
    std::filesystem::remove_all(common_dir);

    Rounds memory, first, steady, warm;
    std::vector<double> open_ms, load_ms;
    size_t resident_buckets = 0;
    int resident_depth = 0;
    auto memory_a_source = [&] { return &memory_a; };
    auto memory_b_source = [&] { return &memory_b; };
    auto index_a_source = [&] { return std::make_unique<PinnedReader>(side_a); };
    auto index_b_source = [&] { return std::make_unique<PinnedReader>(side_b); };
    // Uncounted: the in-memory sets' first sync touches their pages for the first time,
    // which no later sync (and no index sync) pays.
    Reconcile(sets, memory_a_source, memory_b_source, opts);
    for (int round = 0; round < rounds; ++round) {
      memory.Add(Reconcile(sets, memory_a_source, memory_b_source, opts));
      side_a.Reopen(max_buckets);
      side_b.Reopen(max_buckets);
      open_ms.push_back(side_a.open_ms);
      load_ms.push_back(side_a.load_ms);
      if (auto levels = side_a.trie->Current()) {
        resident_buckets = levels->buckets;
        resident_depth = levels->depth;
      }
      first.Add(Reconcile(sets, index_a_source, index_b_source, opts));
      for (const IndexedSide* side : {&side_a, &side_b}) {
        if (auto levels = side->trie->Current()) levels->leaves->Clear();
      }
      steady.Add(Reconcile(sets, index_a_source, index_b_source, opts));
      warm.Add(Reconcile(sets, index_a_source, index_b_source, opts));
    }
    std::string set_name = Human(spec.items) + "/" + WithCommas(spec.differences);
    bool exact = first.exact && steady.exact && warm.exact && memory.exact;
    fmt::print("{:>12} {:>9} {:>9} {:>5} {:>5} {:>6}\n", set_name, WithCommas(first.bytes),
               WithCommas(memory.bytes), first.round_trips, memory.round_trips,
               exact ? "yes" : "NO");
    std::fflush(stdout);
    for (int side = 0; side < 2; ++side) {
      auto cpu_of = [side](const Rounds& r) {
        return Median(side == 0 ? r.initiator_ms : r.responder_ms);
      };
      auto per_round = [side](const Rounds& index, const Rounds& base) {
        const auto& of = side == 0 ? index.initiator_ms : index.responder_ms;
        const auto& by = side == 0 ? base.initiator_ms : base.responder_ms;
        std::vector<double> ratios;
        for (size_t i = 0; i < of.size() && i < by.size(); ++i) {
          if (by[i] > 0) ratios.push_back(of[i] / by[i]);
        }
        return ratios;
      };
      const char* side_name = side == 0 ? "init" : "resp";
      std::string line = fmt::format("{:>12} {:>5} {:>8.2f}", side == 0 ? set_name : "",
                                     side_name, cpu_of(memory));
      for (const Rounds* index : {&first, &steady, &warm}) {
        line += fmt::format("  {:>8.2f} {:>6.2f}", cpu_of(*index), Median(per_round(*index, memory)));
      }
      cpu_lines.push_back(line);
      std::string rounds_line = fmt::format("{:>12} {:>5}", side == 0 ? set_name : "", side_name);
      for (double ratio : per_round(steady, memory)) rounds_line += fmt::format(" {:.2f}", ratio);
      round_lines.push_back(rounds_line);
    }
    cost_lines.push_back(fmt::format(
        "{:>12} {:>8.1f} {:>9.1f} {:>9.1f} {:>9} {:>6} {:>6.0f} {:>6.0f} {:>6.0f} {:>6.0f}",
        set_name, add_seconds * 1e6 / static_cast<double>(sets.common.size()), Median(open_ms),
        Median(load_ms), WithCommas(resident_buckets), resident_depth,
        Median(first.initiator_reads), Median(first.responder_reads),
        Median(steady.initiator_reads), Median(steady.responder_reads)));
    side_a.trie.reset();
    side_a.db.reset();
    side_b.trie.reset();
    side_b.db.reset();
  }
  fmt::print("\ncpu ms per side (medians); ratio = median of the rounds' index / memory (each "
             "round syncs\nthe in-memory sets and then the index, so a machine whose speed "
             "drifts between rounds\nmoves both sides of a round's ratio alike)\n\n");
  fmt::print("{:>12} {:>5} {:>8}  {:>15}  {:>15}  {:>15}\n", "", "", "memory", "index first",
             "index steady", "index warm");
  fmt::print("{:>12} {:>5} {:>8}  {:>8} {:>6}  {:>8} {:>6}  {:>8} {:>6}\n", "items/diff", "side",
             "cpu ms", "cpu ms", "ratio", "cpu ms", "ratio", "cpu ms", "ratio");
  for (const auto& line : cpu_lines) fmt::print("{}\n", line);
  fmt::print("\nindex steady / memory, round by round\n\n");
  for (const auto& line : round_lines) fmt::print("{}\n", line);
  fmt::print("\nthe index's costs (initiator side): add = bulk load in batches of {} with the "
             "resident levels\npublished per batch; open = LevelDB reopen; load = reading the "
             "resident levels at open;\nreads = LevelDB reads (gets and scans) per side in the "
             "first and the steady sync\n\n",
             kAddBatch);
  fmt::print("{:>12} {:>8} {:>9} {:>9} {:>9} {:>6} {:>13} {:>13}\n", "items/diff", "add us",
             "open ms", "load ms", "buckets", "depth", "reads first", "reads steady");
  fmt::print("{:>12} {:>8} {:>9} {:>9} {:>9} {:>6} {:>6} {:>6} {:>6} {:>6}\n", "", "per item",
             "", "", "", "", "init", "resp", "init", "resp");
  for (const auto& line : cost_lines) fmt::print("{}\n", line);
  std::filesystem::remove_all(dir);
  return 0;
}
