#include "output.h"

#include <cerrno>
#include <ctime>
#include <cstring>

#include <fmt/format.h>

#include "errors.h"
#include "lattice/common/hex.h"
#include "lattice/common/utf8.h"

namespace lattice::ctl {
namespace {

absl::Status WriteError(int err) {
  if (err == EPIPE) return StdoutClosedError();
  return absl::UnavailableError(fmt::format("cannot write to stdout: {}", std::strerror(err)));
}

}  // namespace

absl::Status Printer::Write(std::string_view bytes) {
  if (bytes.empty()) return absl::OkStatus();
  errno = 0;
  if (std::fwrite(bytes.data(), 1, bytes.size(), out_) != bytes.size()) {
    return WriteError(errno != 0 ? errno : EIO);
  }
  return absl::OkStatus();
}

absl::Status Printer::Line(std::string_view text, bool flush) {
  if (absl::Status status = Write(text); !status.ok()) return status;
  if (absl::Status status = Write("\n"); !status.ok()) return status;
  return flush ? Flush() : absl::OkStatus();
}

absl::Status Printer::Json(const nlohmann::json& document, bool flush) {
  return Line(DumpJson(document), flush);
}

absl::Status Printer::Flush() {
  errno = 0;
  if (std::fflush(out_) != 0) return WriteError(errno != 0 ? errno : EIO);
  return absl::OkStatus();
}

void Printer::Warn(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), err_);
  std::fputc('\n', err_);
  std::fflush(err_);
}

std::string DumpJson(const nlohmann::json& document) {
  return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool IsValidUtf8(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    size_t length = Utf8SequenceLength(bytes, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string EscapeForLine(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    auto c = static_cast<unsigned char>(bytes[i]);
    size_t length = Utf8SequenceLength(bytes, i);
    if (length > 1) {
      out.append(bytes.substr(i, length));
      i += length;
      continue;
    }
    ++i;
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

void SetBytes(nlohmann::json& object, const std::string& field, const std::string& bytes) {
  if (IsValidUtf8(bytes)) {
    object[field] = bytes;
  } else {
    object[field] = ToHex(bytes);
    object[field + "_encoding"] = "hex";
  }
}

nlohmann::json BytesJson(const std::string& bytes) {
  if (IsValidUtf8(bytes)) return bytes;
  return nlohmann::json{{"hex", ToHex(bytes)}};
}

nlohmann::json HlcJson(const v1::Hlc& hlc) {
  return nlohmann::json{{"wall_ms", hlc.wall_ms()}, {"counter", hlc.counter()}};
}

std::string FormatHlc(const v1::Hlc& hlc) {
  std::string time = FormatTimeMs(hlc.wall_ms());
  // Insert the milliseconds before the trailing Z.
  time.insert(time.size() - 1, fmt::format(".{:03}", hlc.wall_ms() % 1000));
  return fmt::format("{}+{}", time, hlc.counter());
}

std::string FormatTimeMs(uint64_t ms_since_epoch) {
  auto seconds = static_cast<std::time_t>(ms_since_epoch / 1000);
  std::tm utc{};
  if (::gmtime_r(&seconds, &utc) == nullptr) return std::to_string(ms_since_epoch);
  char buffer[32];
  size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return std::string(buffer, n);
}

std::string FormatDurationMs(uint64_t ms) {
  if (ms < 1000) return fmt::format("{}ms", ms);
  uint64_t seconds = ms / 1000;
  uint64_t days = seconds / 86400;
  uint64_t hours = seconds / 3600 % 24;
  uint64_t minutes = seconds / 60 % 60;
  uint64_t secs = seconds % 60;
  if (days > 0) return fmt::format("{}d {}h {}m {}s", days, hours, minutes, secs);
  if (hours > 0) return fmt::format("{}h {}m {}s", hours, minutes, secs);
  if (minutes > 0) return fmt::format("{}m {}s", minutes, secs);
  return fmt::format("{}s", secs);
}

std::string FormatAgoMs(uint64_t then_ms, uint64_t now_ms) {
  if (then_ms == 0) return "never";
  if (then_ms + 1000 > now_ms) return "just now";
  uint64_t seconds = (now_ms - then_ms) / 1000;
  if (seconds < 60) return fmt::format("{}s ago", seconds);
  if (seconds < 3600) return fmt::format("{}m ago", seconds / 60);
  if (seconds < 2 * 86400) return fmt::format("{}h ago", seconds / 3600);
  return fmt::format("{}d ago", seconds / 86400);
}

std::string AbbreviateId(const std::string& hex, size_t n) {
  return hex.size() <= n ? hex : hex.substr(0, n);
}

std::string Joined(const google::protobuf::RepeatedPtrField<std::string>& items,
                   const char* separator, bool escape) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += escape ? EscapeForLine(item) : item;
  }
  return out;
}

nlohmann::json StringArray(const google::protobuf::RepeatedPtrField<std::string>& items) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : items) out.push_back(item);
  return out;
}

std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);

  std::string out;
  auto append_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  append_row(header);
  for (const auto& row : rows) append_row(row);
  return out;
}

std::string FormatFields(const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [name, value] : fields) width = std::max(width, name.size() + 1);
  std::string out;
  for (const auto& [name, value] : fields) {
    std::string label = name + ":";
    out += label;
    out.append(width - label.size() + 1, ' ');
    out += value;
    out += '\n';
  }
  return out;
}

}  // namespace lattice::ctl
