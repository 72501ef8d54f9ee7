#include "tools/cli/text_table.h"

#include <algorithm>

#include "engine/error.h"

namespace gradlens::cli {

size_t text_width(const std::string& text) {
  // Every byte except UTF-8 continuation bytes (10xxxxxx) starts a code point.
  return size_t(std::count_if(text.begin(), text.end(), [](char c) { return (uint8_t(c) & 0xC0) != 0x80; }));
}

void TextTable::add_row(std::vector<std::string> cells) {
  GL_CHECK(cells.size() <= header_.size(), "text table: a row of ", cells.size(), " cells under ", header_.size(),
           " columns");
  cells.resize(header_.size());
  rows_.push_back(std::move(cells));
}

void TextTable::align_right(size_t column) {
  if (right_.size() < header_.size()) right_.resize(header_.size(), false);
  right_.at(column) = true;
}

std::string TextTable::render() const {
  std::vector<size_t> width(header_.size(), 0);
  for (size_t k = 0; k < header_.size(); ++k) width[k] = text_width(header_[k]);
  for (const auto& row : rows_)
    for (size_t k = 0; k < row.size(); ++k) width[k] = std::max(width[k], text_width(row[k]));
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t k = 0; k < cells.size(); ++k) {
      const std::string pad(width[k] - text_width(cells[k]), ' ');
      const bool right = k < right_.size() && right_[k];
      if (k > 0) s += "  ";
      s += right ? pad + cells[k] : cells[k] + (k + 1 < cells.size() ? pad : "");
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s + "\n";
  };
  std::string out = line(header_);
  for (const auto& row : rows_) out += line(row);
  return out;
}

}  // namespace gradlens::cli
