// A line chart for `gradlens evaluate`: one mean curve per method (deletion, insertion and AOPC
// curves), axes with ticks at 0, ¼, ½, ¾, 1 of each range, axis labels, a title and a legend.
#pragma once
#include <string>
#include <vector>

#include "io/image.h"

namespace gradlens::cli {

struct Series {
  std::string name;
  std::vector<double> y;  // at the shared x
};

Image8 plot_curves(const std::string& title, const std::string& x_label, const std::string& y_label,
                   const std::vector<double>& x, const std::vector<Series>& series);

}  // namespace gradlens::cli
