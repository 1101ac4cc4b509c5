// Writing lattice-ctl's results: the Printer that owns stdout and stderr, and the text
// helpers every formatter shares (escaping bytes for one line, bytes in JSON, times, tables).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "lattice/v1/store_protocol.pb.h"

namespace lattice::ctl {

// Owns the process's stdout and stderr for one command. A failed write to stdout becomes a
// status (StdoutClosedError on EPIPE), never a signal or an exception. Not thread-safe.
class Printer {
 public:
  Printer(std::FILE* out, std::FILE* err, bool json) : out_(out), err_(err), json_(json) {}

  bool json() const { return json_; }

  // Writes bytes as they are.
  absl::Status Write(std::string_view bytes);
  // Writes `text` and a newline; `flush` pushes it out at once (watch output).
  absl::Status Line(std::string_view text, bool flush = false);
  // Writes `document` as one line of JSON.
  absl::Status Json(const nlohmann::json& document, bool flush = false);
  absl::Status Flush();
  // One line to stderr (a warning on success; errors are printed by main).
  void Warn(std::string_view text);

 private:
  std::FILE* out_;
  std::FILE* err_;
  bool json_;
};

// One JSON document as one line; invalid UTF-8 (which SetBytes avoids) is replaced, never
// thrown about.
std::string DumpJson(const nlohmann::json& document);

bool IsValidUtf8(std::string_view bytes);

// Bytes shown on one line: valid UTF-8 stays as it is except control characters and
// backslashes, which become \n, \t, \r, \\ or \xNN, as do bytes that are not UTF-8.
std::string EscapeForLine(std::string_view bytes);

// Sets object[field] to `bytes` as a JSON string when they are valid UTF-8; otherwise to
// their hex and object[field + "_encoding"] to "hex".
void SetBytes(nlohmann::json& object, const std::string& field, const std::string& bytes);

// A byte string for a JSON array: a string when UTF-8, else {"hex": "..."}.
nlohmann::json BytesJson(const std::string& bytes);

// {"wall_ms": ..., "counter": ...}
nlohmann::json HlcJson(const v1::Hlc& hlc);
// "2024-01-02T03:04:05.678Z+3": the wall clock in UTC and the logical counter.
std::string FormatHlc(const v1::Hlc& hlc);

// "2024-01-02T03:04:05Z" (UTC) from milliseconds since the epoch.
std::string FormatTimeMs(uint64_t ms_since_epoch);
// "3d 4h 5m 6s", "2m 0s", "850ms".
std::string FormatDurationMs(uint64_t ms);

// "3s ago", "5m ago", "2h ago", "4d ago" for a moment `then_ms` before `now_ms`; "never" when
// `then_ms` is 0 and "just now" when it is less than a second before `now_ms` or after it
// (another node's clock).
std::string FormatAgoMs(uint64_t then_ms, uint64_t now_ms);

// The first `n` characters of a hex id, for tables and message lines.
std::string AbbreviateId(const std::string& hex, size_t n = 12);

// `items` joined by `separator`, each escaped for one line when `escape`.
std::string Joined(const google::protobuf::RepeatedPtrField<std::string>& items,
                   const char* separator, bool escape);

// `items` (UTF-8 text such as ids and addresses) as a JSON array of strings.
nlohmann::json StringArray(const google::protobuf::RepeatedPtrField<std::string>& items);

// Left-aligned columns separated by two spaces, a header row first; no trailing spaces.
std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

// "name:  value" lines with the values aligned.
std::string FormatFields(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace lattice::ctl
