// Percent-encoding of URL paths and query strings (RFC 3986).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace lattice::web {

// Decodes %XX escapes (and '+' as a space when `plus_is_space`, for query strings);
// nullopt on a truncated or non-hex escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// Encodes every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~).
std::string PercentEncode(std::string_view bytes);

// A query string's parameters, decoded; a name without '=' has an empty value. nullopt on a
// malformed escape. A repeated name keeps its first value.
std::optional<std::map<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace lattice::web
