#include "presence/presence_signature.h"

#include <cstdint>

namespace lattice::kernel::presence {
namespace {

void AppendBigEndian(std::string& out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void AppendField(std::string& out, std::string_view field) {
  AppendBigEndian(out, field.size(), 4);
  out.append(field);
}

}  // namespace

std::string SignedBytes(const v1::PresenceAnnouncement& announcement) {
  std::string out;
  out.reserve(announcement.origin().size() + announcement.store_id().size() +
              announcement.key().size() + announcement.value().size() + 28);
  AppendField(out, announcement.origin());
  AppendField(out, announcement.store_id());
  AppendField(out, announcement.key());
  AppendField(out, announcement.value());
  AppendBigEndian(out, announcement.ttl_ms(), 4);
  AppendBigEndian(out, announcement.sequence(), 8);
  return out;
}

void SignAnnouncement(const KeyPair& key, v1::PresenceAnnouncement& announcement) {
  announcement.set_origin(key.public_key);
  announcement.set_signature(Sign(key, kPresenceSigningContext, SignedBytes(announcement)));
}

bool VerifyAnnouncement(const v1::PresenceAnnouncement& announcement) {
  if (announcement.origin().size() != kPublicKeyBytes ||
      announcement.signature().size() != kSignatureBytes) {
    return false;
  }
  return Verify(announcement.origin(), kPresenceSigningContext, SignedBytes(announcement),
                announcement.signature());
}

}  // namespace lattice::kernel::presence
