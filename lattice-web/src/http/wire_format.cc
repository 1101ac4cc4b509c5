// Response serialization.
#include "src/http/wire_format.h"

#include <fmt/format.h>

#include <ctime>

#include "src/http/request.h"

namespace lattice::web::http {
namespace {

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsWritableHeader(const std::string& name, const std::string& value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!IsTokenChar(c)) return false;
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

bool IsServerOwned(std::string_view name) {
  return EqualsIgnoringCase(name, "Content-Length") ||
         EqualsIgnoringCase(name, "Transfer-Encoding") || EqualsIgnoringCase(name, "Connection") ||
         EqualsIgnoringCase(name, "Date") || EqualsIgnoringCase(name, "Server");
}

// 204 and 304 never carry a body (RFC 9110 §6.4.1).
bool IsBodyless(int status) { return status == 204 || status == 304; }

}  // namespace

std::string HttpDate(std::chrono::system_clock::time_point when) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[utc.tm_wday % 7],
                     utc.tm_mday, kMonths[utc.tm_mon % 12], utc.tm_year + 1900, utc.tm_hour,
                     utc.tm_min, utc.tm_sec);
}

bool ResponseAsksToClose(const Response& response) {
  for (const auto& [name, value] : response.headers) {
    if (EqualsIgnoringCase(name, "Connection") && EqualsIgnoringCase(value, "close")) return true;
  }
  return false;
}

std::string SerializeResponseHead(const Response& response, const WireContext& context) {
  int status = response.status;
  if (status < 200 || status > 599) status = 500;
  std::string out;
  out.reserve(256);
  out += fmt::format("HTTP/1.1 {} {}\r\nServer: lattice-web\r\nDate: {}\r\n", status,
                     ReasonPhrase(status), HttpDate(std::chrono::system_clock::now()));
  for (const auto& [name, value] : response.headers) {
    if (IsServerOwned(name) || !IsWritableHeader(name, value)) continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (context.close) out += "Connection: close\r\n";
  if (!context.streamed && !IsBodyless(status)) {
    out += fmt::format("Content-Length: {}\r\n", response.body.size());
  }
  out += "\r\n";
  return out;
}

bool SendsBody(const Response& response, const WireContext& context) {
  int status = response.status;
  if (status < 200 || status > 599) status = 500;
  return !context.head_request && !context.streamed && !IsBodyless(status);
}

std::string SerializeResponse(const Response& response, const WireContext& context) {
  std::string out = SerializeResponseHead(response, context);
  if (SendsBody(response, context)) out += response.body;
  return out;
}

}  // namespace lattice::web::http
