// Thin, typed wrappers over libsodium's own constructions: Ed25519 signatures,
// BLAKE2b-256 hashing, random bytes and constant-time comparison. Nothing hand-rolled.
#pragma once

#include <string>
#include <string_view>

namespace lattice {

inline constexpr size_t kPublicKeyBytes = 32;
inline constexpr size_t kSecretKeyBytes = 64;
inline constexpr size_t kSignatureBytes = 64;

// Initialises libsodium once; safe to call from any thread, any number of times.
void InitCrypto();

struct KeyPair {
  std::string public_key;  // 32 bytes
  std::string secret_key;  // 64 bytes (seed || public key, libsodium's layout)
};

KeyPair GenerateKeyPair();

// Rebuilds a key pair from a 64-byte libsodium secret key. Returns false when malformed.
bool KeyPairFromSecret(std::string_view secret_key, KeyPair* out);

// Ed25519 over context || message.
std::string Sign(const KeyPair& key, std::string_view context, std::string_view message);
bool Verify(std::string_view public_key, std::string_view context, std::string_view message,
            std::string_view signature);

// BLAKE2b with a 32-byte output.
std::string Blake2b256(std::string_view data);
// Keyed BLAKE2b (a PRF) with a 32-byte output; `key` is 16 to 64 bytes.
std::string Blake2b256Keyed(std::string_view key, std::string_view data);

std::string RandomBytes(size_t n);

bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace lattice

namespace lattice {
// Incremental BLAKE2b-256, for hashing a whole table without holding it in memory.
class Blake2bHasher {
 public:
  Blake2bHasher();
  void Update(std::string_view data);
  // Length-prefixed, so ("ab","c") and ("a","bc") hash differently.
  void UpdateField(std::string_view data);
  std::string Finish();

 private:
  alignas(64) unsigned char state_[384];
};
}  // namespace lattice
