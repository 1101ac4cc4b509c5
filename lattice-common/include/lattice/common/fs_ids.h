// Inode and entry ids of an fs store (fs.proto). Every id is derived from what intentions
// carry, so every node gives an object the same id. Most are derived from the hash of the
// intention that made them, which exists only once it is signed; a file created with a
// nonce has an id its client can compute before sending the create (FsMintedId), so a
// mount can answer a create at once and send it later.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lattice {

// The bytes of a create's nonce (FsCreate.nonce), drawn at random by the client.
inline constexpr size_t kFsNonceBytes = 16;

// An id from a BLAKE2b-256 digest: its first 8 bytes, little-endian, the top bit cleared
// (ids with it set name an op of the same payload), ids below 16 moved up by 16 (the root,
// the trash and ids kept for later).
uint64_t FsIdFromDigest(std::string_view digest);

// The id of the inode a create with `nonce` makes when `author` (the 32-byte key that signs
// the intention) writes it: FsIdFromDigest(BLAKE2b-256("lattice/fs/minted/v1" || author ||
// nonce)). Binding the author means no node can name an id another node's client minted:
// it would need a preimage of 63 bits.
uint64_t FsMintedId(std::string_view author, std::string_view nonce);

}  // namespace lattice
