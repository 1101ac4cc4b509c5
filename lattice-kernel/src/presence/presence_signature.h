// The signature of a PresenceAnnouncement: the origin's Ed25519 key over fields 1-6, with
// the context "lattice/presence/v1" (lattice/common/crypto.h). The signed bytes are a fixed
// encoding, independent of protobuf's serializer so any implementation can reproduce them:
//   origin, store_id, key, value  each as a 4-byte big-endian length and then its bytes,
//   ttl_ms                        4 bytes big-endian,
//   sequence                      8 bytes big-endian.
// remaining_ms (field 8) is not signed: a relaying node sets it to what is left.
#pragma once

#include <string>
#include <string_view>

#include "lattice/common/crypto.h"
#include "lattice/v1/replication.pb.h"

namespace lattice::kernel::presence {

inline constexpr std::string_view kPresenceSigningContext = "lattice/presence/v1";

// The bytes the signature covers.
std::string SignedBytes(const v1::PresenceAnnouncement& announcement);

// Sets announcement.origin to the key's public key and signs the announcement.
void SignAnnouncement(const KeyPair& key, v1::PresenceAnnouncement& announcement);

// True when the signature is the origin's over the announcement's fields 1-6.
bool VerifyAnnouncement(const v1::PresenceAnnouncement& announcement);

}  // namespace lattice::kernel::presence
