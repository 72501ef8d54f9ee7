// A line chart for `gradlens evaluate`: one mean curve per method (deletion, insertion and AOPC
// curves), axes with ticks at 0, ¼, ½, ¾, 1 of each range, axis labels, a title and a legend.
// With x_ticks (one label per x, e.g. layer names) the x axis is ticked at every x with its label
// instead, labels on two alternating rows, longer ones shortened to their last 18 characters.
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
                   const std::vector<double>& x, const std::vector<Series>& series,
                   const std::vector<std::string>& x_ticks = {});

}  // namespace gradlens::cli
