#include "state/fs_keys.h"

#include "storage/keys.h"

namespace lattice::kernel::fs {

std::string Be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t ReadBe64(std::string_view bytes) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  return v;
}

namespace {
void AppendBe32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}
}  // namespace

std::string Stamp(const v1::Hlc& hlc, std::string_view hash, uint32_t index) {
  std::string out = Be64(hlc.wall_ms());
  AppendBe32(&out, hlc.counter());
  out.append(hash);
  AppendBe32(&out, index);
  return out;
}

uint64_t StampWallMs(std::string_view stamp) { return stamp.size() >= 8 ? ReadBe64(stamp) : 0; }

std::string TablePrefix(char table) { return std::string{keys::kState, table}; }

std::string Key(char table, uint64_t id) { return TablePrefix(table) + Be64(id); }

std::string Key(char table, uint64_t id, std::string_view rest) {
  std::string k = Key(table, id);
  k.append(rest);
  return k;
}

std::string ChildKey(uint64_t dir, uint64_t entry) { return Key(kChildTable, dir, Be64(entry)); }
std::string SubdirKey(uint64_t dir, uint64_t entry) { return Key(kSubdirTable, dir, Be64(entry)); }

std::string NamePrefix(uint64_t dir, std::string_view name) {
  std::string k = Key(kNameTable, dir, name);
  k.push_back('\0');
  return k;
}

std::string NameKey(uint64_t dir, std::string_view name, uint64_t entry) {
  return NamePrefix(dir, name) + Be64(entry);
}

absl::Status FsSource::ScanPrefix(std::string_view prefix, const Visitor& visit) const {
  return Scan(prefix, keys::PrefixEnd(prefix), visit);
}

absl::StatusOr<std::optional<std::string>> DatabaseSource::Get(std::string_view key) const {
  return db_.Get(key);
}

absl::Status DatabaseSource::Scan(std::string_view start, std::string_view end,
                                  const Visitor& visit) const {
  return db_.Scan(start, end, visit);
}

absl::StatusOr<std::optional<std::string>> ViewSource::Get(std::string_view key) const {
  auto value = view_.Get(key);
  if (!view_.status().ok()) return view_.status();
  return value;
}

absl::Status ViewSource::Scan(std::string_view start, std::string_view end,
                              const Visitor& visit) const {
  view_.Scan(start, end, visit);
  return view_.status();
}

}  // namespace lattice::kernel::fs
