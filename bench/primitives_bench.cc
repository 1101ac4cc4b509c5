// lattice-primitives-bench: Google Benchmark microbenchmarks of the CPU work one kernel
// write does besides the fsync: hashing, signing, building and decoding an intention.
// Read next to lattice-kernel-bench's per-call CPU figures to see where a put's time goes.
#include <benchmark/benchmark.h>

#include <string>

#include "baselines.h"
#include "dag/intention.h"
#include "lattice/common/crypto.h"
#include "lattice/v1/intention.pb.h"

namespace lattice::bench {
namespace {

const std::string kMessage = Filler(200, 1);

// A body like a single 128-byte put: one op replacing one head, the chain's prev, one dep.
v1::Intention TypicalPutBody(const KeyPair& key) {
  v1::KvPayload payload;
  auto* op = payload.add_ops();
  op->set_key("bench/0001/0000000000000042");
  op->set_value(Filler(128, 2));
  op->add_replaces(std::string(32, 'r'));
  v1::Intention body;
  body.set_store_id(std::string(16, 's'));
  body.set_author(key.public_key);
  body.set_seq(42);
  body.set_prev(std::string(32, 'p'));
  body.mutable_hlc()->set_wall_ms(1'700'000'000'000);
  body.mutable_hlc()->set_counter(3);
  body.add_deps(std::string(32, 'd'));
  body.set_op_type(std::string(kernel::kOpKv));
  body.set_payload(payload.SerializeAsString());
  return body;
}

void BM_Blake2b256_200B(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Blake2b256(kMessage));
}
BENCHMARK(BM_Blake2b256_200B);

void BM_Ed25519Sign_200B(benchmark::State& state) {
  KeyPair key = GenerateKeyPair();
  for (auto _ : state) benchmark::DoNotOptimize(Sign(key, "bench", kMessage));
}
BENCHMARK(BM_Ed25519Sign_200B);

void BM_Ed25519Verify_200B(benchmark::State& state) {
  KeyPair key = GenerateKeyPair();
  std::string signature = Sign(key, "bench", kMessage);
  for (auto _ : state) {
    benchmark::DoNotOptimize(Verify(key.public_key, "bench", kMessage, signature));
  }
}
BENCHMARK(BM_Ed25519Verify_200B);

// What the store's writer does per local write before touching LevelDB.
void BM_SignIntention_Put(benchmark::State& state) {
  KeyPair key = GenerateKeyPair();
  v1::Intention body = TypicalPutBody(key);
  for (auto _ : state) benchmark::DoNotOptimize(kernel::SignIntention(key, body));
}
BENCHMARK(BM_SignIntention_Put);

// What ingest (and the watch path's DecodeTrusted without the signature) does per intention.
void BM_DecodeAndVerify_Put(benchmark::State& state) {
  KeyPair key = GenerateKeyPair();
  auto signed_intention = kernel::SignIntention(key, TypicalPutBody(key)).signed_intention;
  for (auto _ : state) benchmark::DoNotOptimize(kernel::DecodeAndVerify(signed_intention));
}
BENCHMARK(BM_DecodeAndVerify_Put);

void BM_DecodeTrusted_Put(benchmark::State& state) {
  KeyPair key = GenerateKeyPair();
  auto signed_intention = kernel::SignIntention(key, TypicalPutBody(key)).signed_intention;
  for (auto _ : state) benchmark::DoNotOptimize(kernel::DecodeTrusted(signed_intention));
}
BENCHMARK(BM_DecodeTrusted_Put);

}  // namespace
}  // namespace lattice::bench

int main(int argc, char** argv) {
  lattice::InitCrypto();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
