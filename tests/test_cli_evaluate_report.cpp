// `gradlens evaluate` on the real binary, the parts around the metrics: the --list table and the
// results table (columns as wide as their cells), report.html (per-metric rankings that follow
// each metric's direction, ties where 95% CIs overlap, every method, metric and parameter, the
// charts inlined byte for byte), and image inputs (PNG files preprocessed as explain does; masks,
// boxes and unreadable files rejected in one line naming the file, nothing written).
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "attribution/metrics/metric.h"
#include "cli_runner.h"
#include "io/image.h"
#include "io/npy.h"

using namespace gradlens;
using namespace gradlens::test;
namespace fs = std::filesystem;

namespace {
const fs::path kSmall = fs::path(GRADLENS_TEST_DATA) / "fixtures" / "small_cnn";


std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Display width: UTF-8 code points.
size_t width(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += (uint8_t(c) & 0xC0) != 0x80;
  return n;
}

std::string base64(const std::string& bytes) {
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) v |= uint8_t(bytes[i + 2]);
    out += a[v >> 18 & 63];
    out += a[v >> 12 & 63];
    out += i + 1 < bytes.size() ? a[v >> 6 & 63] : '=';
    out += i + 2 < bytes.size() ? a[v & 63] : '=';
  }
  return out;
}

// small_cnn's inputs are [2, 3, 32, 32]; example n's mask is rows 4..19, columns 8+4n..23.
void write_masks(const ScratchDir& s) {
  Tensor m(Shape{2, 32, 32});
  for (int n = 0; n < 2; ++n)
    for (int y = 4; y < 20; ++y)
      for (int x = 8 + 4 * n; x < 24; ++x) m[(n * 32 + y) * 32 + x] = 1;
  write_npy(s / "masks.npy", m);
}

// A map with value `inside` at pixel (10, 16) (in both masks) and `outside` at (26, 28), channel 0:
// its energy pointing game is inside / (inside + outside).
Tensor two_pixel_map(const float inside[2], const float outside[2]) {
  Tensor a(Shape{2, 3, 32, 32});
  for (int n = 0; n < 2; ++n) {
    a[n * 3 * 1024 + 10 * 32 + 16] = inside[n];
    a[n * 3 * 1024 + 26 * 32 + 28] = outside[n];
  }
  return a;
}

// The method names of report.html's ranking table for `column`, in order, and their rank texts.
std::vector<std::pair<std::string, std::string>> ranking(const std::string& html, const std::string& column) {
  const size_t start = html.find("<caption><b>" + column + "</b>");
  REQUIRE(start != std::string::npos);
  const size_t end = html.find("</table>", start);
  std::vector<std::pair<std::string, std::string>> rows;
  for (size_t at = html.find("<tr", start + 1); at < end; at = html.find("<tr", at + 1)) {
    const size_t rank_at = html.find("\">", html.find("<td", at)) + 2;
    if (html.compare(at, 7, "<tr><th") == 0) continue;
    const std::string rank = html.substr(rank_at, html.find("</td>", rank_at) - rank_at);
    const size_t name_at = html.find("<td>", rank_at) + 4;
    rows.push_back({html.substr(name_at, html.find("</td>", name_at) - name_at), rank});
  }
  return rows;
}
}  // namespace

TEST_CASE("evaluate --list: a table with a column per field, as wide as its widest cell") {
  if (!cli_built()) return;
  ScratchDir s;
  const CliRun r = run_cli(s, {"evaluate", "--list"});
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> lines = lines_of(r.out);
  REQUIRE(!lines.empty());
  const std::string& header = lines[0];
  CHECK(header.rfind("METRIC", 0) == 0);
  const size_t group_at = header.find("GROUP"), paper_at = header.find("PAPER"), params_at = header.find("PARAMETERS");
  REQUIRE(params_at != std::string::npos);
  size_t longest = 0;
  for (const Metric* m : metrics()) longest = std::max(longest, m->info().name.size());
  CHECK(group_at == longest + 2);  // METRIC column: the longest name, then two spaces
  for (const Metric* m : metrics()) {
    const MetricInfo& i = m->info();
    const auto row = std::find_if(lines.begin() + 1, lines.end(),
                                  [&](const std::string& l) { return l.rfind(i.name + " ", 0) == 0; });
    REQUIRE_MESSAGE(row != lines.end(), i.name);
    CHECK(row->compare(group_at, i.group.size(), i.group) == 0);
    CHECK(row->compare(paper_at, i.paper.size(), i.paper) == 0);
    for (const Parameter& p : i.parameters)
      CHECK_MESSAGE(contains(*row, "--" + p.name + (p.fallback.empty() ? "" : " " + p.fallback)), i.name, " ", p.name);
    CHECK(contains(r.out, i.formula));
  }
  const CliRun j = run_cli(s, {"evaluate", "--list", "--json"});
  REQUIRE(j.exit_code == 0);
  CHECK(j.out.rfind("[{\"name\":", 0) == 0);
  for (const Metric* m : metrics()) CHECK(contains(j.out, "\"name\":\"" + m->info().name + "\""));
}

TEST_CASE("evaluate's results table: equal-width lines, one row per method, 'mean [CI]' cells") {
  if (!cli_built()) return;
  ScratchDir s;
  const CliRun r = run_cli(s, {"evaluate", (kSmall / "model.onnx").string(), (kSmall / "input.npy").string(),
                               "--methods", "gradient,integrated-gradients", "--metrics", "sparseness,complexity",
                               "--out", s / "out", "--quiet"});
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> lines = lines_of(r.out);
  REQUIRE(lines.size() == 4);  // header, two methods, the note
  CHECK(lines[0].rfind("METHOD", 0) == 0);
  CHECK(lines[1].rfind("gradient ", 0) == 0);
  CHECK(lines[2].rfind("integrated-gradients ", 0) == 0);
  CHECK(width(lines[0]) == width(lines[1]));  // numbers are right-aligned: every line ends at the last column
  CHECK(width(lines[1]) == width(lines[2]));
  CHECK(contains(lines[0], "sparseness"));
  CHECK(contains(lines[0], "complexity"));
  CHECK(contains(lines[1], " ["));
  CHECK(contains(lines[3], "over 2 examples"));
}

TEST_CASE("evaluate report.html: rankings follow each metric's direction, overlapping CIs tie") {
  if (!cli_built()) return;
  ScratchDir s;
  write_masks(s);
  // Energy pointing game per example: good 1, 1; mid .5, .5; spread .4, .6 (mean .5, CI ±.196, overlaps
  // mid); bad 0, 0. Higher is better: good 1, mid and spread tied at 2, bad 4 (three CIs above its own).
  const float one[2] = {1, 1}, zero[2] = {0, 0}, two[2] = {2, 3}, three[2] = {3, 2};
  write_npy(s / "good.npy", two_pixel_map(one, zero));
  write_npy(s / "mid.npy", two_pixel_map(one, one));
  write_npy(s / "spread.npy", two_pixel_map(two, three));
  write_npy(s / "bad.npy", two_pixel_map(zero, one));
  const CliRun r = run_cli(s, {"evaluate", (kSmall / "model.onnx").string(), (kSmall / "input.npy").string(),
                               "--attributions", s / "bad.npy" + "," + s / "spread.npy" + "," + s / "good.npy" + "," +
                               s / "mid.npy",
                               "--metrics", "energy-pointing-game,complexity,deletion", "--masks", s / "masks.npy",
                               "--steps", "4", "--out", s / "out", "--quiet"});
  REQUIRE(r.exit_code == 0);
  const std::string html = slurp(s / "out/report.html");
  const auto energy = ranking(html, "energy-pointing-game");
  REQUIRE(energy.size() == 4);
  CHECK(energy[0] == std::make_pair(std::string("good"), std::string("1")));
  CHECK(energy[1] == std::make_pair(std::string("mid"), std::string("2=")));
  CHECK(energy[2] == std::make_pair(std::string("spread"), std::string("2=")));
  CHECK(energy[3] == std::make_pair(std::string("bad"), std::string("4")));
  // complexity (entropy of |a| / Σ|a|) is lower-is-better: bad and good (one pixel each: 0, tied, by
  // name) first, then spread (2 and 3: 0.673 in both examples), then mid (two equal pixels: ln 2).
  const auto entropy = ranking(html, "complexity");
  REQUIRE(entropy.size() == 4);
  CHECK(entropy[0] == std::make_pair(std::string("bad"), std::string("1=")));
  CHECK(entropy[1] == std::make_pair(std::string("good"), std::string("1=")));
  CHECK(entropy[2] == std::make_pair(std::string("spread"), std::string("3")));
  CHECK(entropy[3] == std::make_pair(std::string("mid"), std::string("4")));
  // Every method, metric, parameter and definition appears; the chart is inlined byte for byte.
  for (const char* m : {"good", "mid", "spread", "bad"}) CHECK(contains(html, std::string("<td>") + m + "</td>"));
  for (const char* name : {"energy-pointing-game", "complexity", "deletion"}) {
    CHECK(contains(html, metric(name).info().paper));
    CHECK(contains(html, metric(name).info().formula.substr(0, 10)));
  }
  CHECK(contains(html, "--steps 4"));
  CHECK(contains(html, "--removal zero"));
  CHECK(contains(html, "<code>masks</code>"));
  CHECK(contains(html, "data:image/png;base64," + base64(slurp(s / "out/deletion_curves.png")) + "\""));
  CHECK(!contains(html, "src=\"http"));
  CHECK(!contains(html, "<script"));
}

TEST_CASE("evaluate on image files: preprocessed as explain does; masks, boxes and files checked") {
  if (!cli_built()) return;
  ScratchDir s;
  write_masks(s);
  // Two 32x32 RGB PNGs: with the default preset (resize to the model's 32x32, values / 255) they are
  // exactly the tensor of their pixels / 255.
  Tensor x(Shape{2, 3, 32, 32});
  std::vector<std::string> files;
  for (int n = 0; n < 2; ++n) {
    Image8 img(32, 32, 3);
    for (int y = 0; y < 32; ++y)
      for (int xx = 0; xx < 32; ++xx)
        for (int c = 0; c < 3; ++c) {
          const uint8_t v = uint8_t((37 * y + 11 * xx + 71 * c + 101 * n) % 256);
          img.at(y, xx)[c] = v;
          x[((n * 3 + c) * 32 + y) * 32 + xx] = float(v) / 255.f;
        }
    files.push_back(s / ("image" + std::to_string(n) + ".png"));
    write_png(files.back(), img);
  }
  write_npy(s / "x.npy", x);
  const std::string model = (kSmall / "model.onnx").string();
  auto run = [&](std::vector<std::string> inputs, const std::string& out,
                 std::vector<std::string> regions = {"--metrics", "pointing-game,deletion", "--steps", "4"}) {
    std::vector<std::string> args = {"evaluate", model};
    args.insert(args.end(), inputs.begin(), inputs.end());
    args.insert(args.end(), {"--methods", "gradient", "--quiet"});
    if (std::find(regions.begin(), regions.end(), "--boxes") == regions.end() &&
        std::find(regions.begin(), regions.end(), "--masks") == regions.end())
      regions.insert(regions.end(), {"--masks", s / "masks.npy"});
    args.insert(args.end(), regions.begin(), regions.end());
    args.insert(args.end(), {"--out", out});
    return run_cli(s, args);
  };
  REQUIRE(run({s / "x.npy"}, s / "tensor").exit_code == 0);
  REQUIRE(run(files, s / "images").exit_code == 0);
  CHECK(slurp(s / "tensor/summary.csv") == slurp(s / "images/summary.csv"));
  CHECK(slurp(s / "tensor/per_example.csv") == slurp(s / "images/per_example.csv"));
  CHECK(contains(slurp(s / "images/parameters.tsv"), "preprocessing\t"));

  const auto rejected = check_rejected;
  // 40x40 files preprocessed to the model's 32x32: masks and boxes are in the preprocessed pixels.
  std::vector<std::string> big;
  for (int n = 0; n < 2; ++n) {
    big.push_back(s / ("big" + std::to_string(n) + ".png"));
    write_png(big.back(), Image8(40, 40, 3, uint8_t(60 + 50 * n)));
  }
  write_npy(s / "masks40.npy", Tensor(Shape{2, 40, 40}, 1.f));
  rejected(run(big, s / "o1", {"--metrics", "pointing-game", "--masks", s / "masks40.npy"}), "masks40.npy", s / "o1");
  write_file(s / "boxes40.txt", "0 0 40 40\n0 0 40 40\n");
  rejected(run(big, s / "o2", {"--metrics", "wsl-iou", "--boxes", s / "boxes40.txt"}), "boxes40.txt:1", s / "o2");
  write_file(s / "broken.png", "not an image");
  rejected(run({files[0], s / "broken.png"}, s / "o3"), "broken.png", s / "o3");
  rejected(run({files[0], s / "x.npy"}, s / "o4"), "x.npy", s / "o4");
  rejected(run({s / "x.npy"}, s / "o5", {"--preset", "imagenet"}), "--preset", s / "o5");
}
