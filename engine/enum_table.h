// One table per enum: each name ↔ value pair is written once and serves parsing, printing and
// the "(expected a, b or c)" of the error. Later entries with an already listed value are
// accepted aliases (e.g. "grey"), never printed.
#pragma once
#include <cstddef>
#include <string>

#include "engine/error.h"

namespace gradlens {

template <class E>
struct EnumName {
  const char* name;
  E value;
};

// "a, b or c" (or "a|b|c" with both separators "|"): the table's names without aliases.
template <class E, size_t K>
std::string enum_choices(const EnumName<E> (&table)[K], const char* separator = ", ", const char* last_separator = " or ") {
  std::string out;
  size_t listed = 0, count = 0;
  for (size_t i = 0; i < K; ++i) {
    bool alias = false;
    for (size_t j = 0; j < i; ++j) alias = alias || table[j].value == table[i].value;
    if (!alias) ++count;
  }
  for (size_t i = 0; i < K; ++i) {
    bool alias = false;
    for (size_t j = 0; j < i; ++j) alias = alias || table[j].value == table[i].value;
    if (alias) continue;
    if (listed > 0) out += listed + 1 == count ? last_separator : separator;
    out += table[i].name;
    ++listed;
  }
  return out;
}

// The value named `name`, or nullptr (for callers whose error says more, or that accept a file too).
template <class E, size_t K>
const E* enum_find(const EnumName<E> (&table)[K], const std::string& name) {
  for (const EnumName<E>& e : table)
    if (name == e.name) return &e.value;
  return nullptr;
}

// The value named `name`; else Error "unknown WHAT 'name' (expected a, b or c)".
template <class E, size_t K>
E enum_value(const EnumName<E> (&table)[K], const std::string& name, const char* what) {
  if (const E* value = enum_find(table, name)) return *value;
  fail("unknown ", what, " '", name, "' (expected ", enum_choices(table), ")");
}

template <class E, size_t K>
const char* enum_name(const EnumName<E> (&table)[K], E value) {
  for (const EnumName<E>& e : table)
    if (e.value == value) return e.name;
  return "?";
}

}  // namespace gradlens
