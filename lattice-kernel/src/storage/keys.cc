#include "storage/keys.h"

namespace lattice::kernel::keys {

void AppendBigEndian64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void AppendBigEndian32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t ReadBigEndian64(std::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  return v;
}

uint32_t ReadBigEndian32(std::string_view bytes) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4 && i < bytes.size(); ++i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  return v;
}

namespace {
std::string Key(char table, std::string_view a = {}, std::string_view b = {}) {
  std::string key(1, table);
  key.append(a).append(b);
  return key;
}
}  // namespace

std::string Intention(std::string_view hash) { return Key(kIntention, hash); }

std::string Witness(uint64_t witness) {
  std::string key(1, kWitness);
  AppendBigEndian64(&key, witness);
  return key;
}

std::string AuthorSeq(std::string_view author, uint64_t seq) {
  std::string key = Key(kAuthorSeq, author);
  AppendBigEndian64(&key, seq);
  return key;
}

std::string AuthorTip(std::string_view author) { return Key(kAuthorTip, author); }
std::string Pending(std::string_view hash) { return Key(kPending, hash); }
std::string Missing(std::string_view missing, std::string_view waiting) {
  return Key(kMissing, missing, waiting);
}
std::string MissingPrefix(std::string_view missing) { return Key(kMissing, missing); }
std::string PendingByAuthor(std::string_view author, std::string_view hash) {
  return Key(kPendingByAuthor, author, hash);
}
std::string PendingByAuthorPrefix(std::string_view author) {
  return Key(kPendingByAuthor, author);
}

std::string Held(uint64_t wall_ms, std::string_view hash) {
  std::string key(1, kHeld);
  AppendBigEndian64(&key, wall_ms);
  key.append(hash);
  return key;
}

std::string Fork(std::string_view author, uint64_t seq) {
  std::string key = Key(kFork, author);
  AppendBigEndian64(&key, seq);
  return key;
}

std::string Meta(std::string_view name) { return Key(kMeta, name); }
std::string Standing(uint64_t wall_ms, uint32_t counter, std::string_view hash) {
  std::string k(1, kStanding);
  AppendBigEndian64(&k, wall_ms);
  AppendBigEndian32(&k, counter);
  k.append(hash);
  return k;
}
std::string Table(char table) { return std::string(1, table); }

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<uint8_t>(end.back()) != 0xff) {
      end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

}  // namespace lattice::kernel::keys
