// Checked text → number, the one parser behind every flag, option and list: the WHOLE text must
// be the number (no blanks, no trailing characters), finite and in range of the type.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace gradlens {

bool parse_real(const std::string& text, double& value);      // strtod syntax, finite
bool parse_any_real(const std::string& text, double& value);  // the same, nan and ±inf too
bool parse_integer(const std::string& text, int64_t& value);  // base 10, within int64

// Calls item(text) for each comma-separated item in order (stopping at the first that returns
// false); false when an item did, or the text is empty or ends with a comma.
bool for_each_item(const std::string& text, const std::function<bool(const std::string&)>& item);

}  // namespace gradlens
