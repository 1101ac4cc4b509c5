#include "lattice/common/crypto.h"

#include <sodium.h>

#include <cstdlib>
#include <mutex>

namespace lattice {
namespace {
const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
}  // namespace

void InitCrypto() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();  // no randomness source: nothing is safe to do
  });
}

KeyPair GenerateKeyPair() {
  InitCrypto();
  KeyPair key;
  key.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  key.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(key.public_key.data()),
                      reinterpret_cast<unsigned char*>(key.secret_key.data()));
  return key;
}

bool KeyPairFromSecret(std::string_view secret_key, KeyPair* out) {
  InitCrypto();
  if (secret_key.size() != crypto_sign_SECRETKEYBYTES) return false;
  // Re-derive the pair from the seed: libsodium's secret key merely embeds the public key,
  // so a file whose halves disagree is corrupt.
  std::string public_key(crypto_sign_PUBLICKEYBYTES, '\0');
  std::string derived_secret(crypto_sign_SECRETKEYBYTES, '\0');
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(public_key.data()),
                           reinterpret_cast<unsigned char*>(derived_secret.data()),
                           Bytes(secret_key.substr(0, crypto_sign_SEEDBYTES)));
  bool consistent = sodium_memcmp(derived_secret.data(), secret_key.data(), derived_secret.size()) == 0;
  sodium_memzero(derived_secret.data(), derived_secret.size());
  if (!consistent) return false;
  out->public_key = std::move(public_key);
  out->secret_key = std::string(secret_key);
  return true;
}

std::string Sign(const KeyPair& key, std::string_view context, std::string_view message) {
  std::string signature(crypto_sign_BYTES, '\0');
  std::string signed_bytes;
  signed_bytes.reserve(context.size() + message.size());
  signed_bytes.append(context).append(message);
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       Bytes(signed_bytes), signed_bytes.size(), Bytes(key.secret_key));
  return signature;
}

bool Verify(std::string_view public_key, std::string_view context, std::string_view message,
            std::string_view signature) {
  InitCrypto();
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES) return false;
  if (signature.size() != crypto_sign_BYTES) return false;
  std::string signed_bytes;
  signed_bytes.reserve(context.size() + message.size());
  signed_bytes.append(context).append(message);
  return crypto_sign_verify_detached(Bytes(signature), Bytes(signed_bytes), signed_bytes.size(),
                                     Bytes(public_key)) == 0;
}

std::string Blake2b256(std::string_view data) {
  std::string out(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(), Bytes(data),
                     data.size(), nullptr, 0);
  return out;
}

std::string Blake2b256Keyed(std::string_view key, std::string_view data) {
  std::string out(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(), Bytes(data),
                     data.size(), Bytes(key), key.size());
  return out;
}

std::string RandomBytes(size_t n) {
  InitCrypto();
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace lattice

namespace lattice {
static_assert(sizeof(crypto_generichash_state) <= 384);

Blake2bHasher::Blake2bHasher() {
  InitCrypto();
  crypto_generichash_init(reinterpret_cast<crypto_generichash_state*>(state_), nullptr, 0, 32);
}

void Blake2bHasher::Update(std::string_view data) {
  crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(state_), Bytes(data),
                            data.size());
}

void Blake2bHasher::UpdateField(std::string_view data) {
  unsigned char length[8];
  uint64_t n = data.size();
  for (int i = 7; i >= 0; --i, n >>= 8) length[i] = static_cast<unsigned char>(n);
  crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(state_), length, 8);
  Update(data);
}

std::string Blake2bHasher::Finish() {
  std::string out(32, '\0');
  crypto_generichash_final(reinterpret_cast<crypto_generichash_state*>(state_),
                           reinterpret_cast<unsigned char*>(out.data()), out.size());
  return out;
}
}  // namespace lattice
