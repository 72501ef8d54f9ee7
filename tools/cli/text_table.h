// Plain-text tables for the CLI's stdout (`evaluate --list`, `evaluate`'s results): each column
// as wide as its widest cell (counted in UTF-8 code points, so "≥" or "±" take one column), two
// spaces between columns, a header line in capitals' place given by the caller, no trailing blanks.
#pragma once
#include <string>
#include <vector>

namespace gradlens::cli {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  // A row with as many cells as the header (fewer are padded with empty cells; more is an Error).
  void add_row(std::vector<std::string> cells);
  // Right-align column k (numbers); columns are left-aligned by default.
  void align_right(size_t column);
  std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<bool> right_;
};

// Display width of UTF-8 text: its number of code points.
size_t text_width(const std::string& text);

}  // namespace gradlens::cli
