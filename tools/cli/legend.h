// What `compare`'s grid and report and `explain --out-png` draw beside the heatmaps (one copy for
// both): class names (--labels), each picture's colour bar with its tick values and the note on
// how tiles are scaled, and the row label of an example (its prediction with probability, the
// class explained, the true class).
#pragma once
#include <string>
#include <vector>

#include "attribution/method.h"
#include "io/canvas.h"
#include "tools/cli/images.h"
#include "tools/cli/report.h"

namespace gradlens::cli {

// printf-formatted number ("%.3f", "%g").
std::string fixed(double v, const char* format);

// --labels FILE|imagenet: one name per line, as many as the model's classes (an Error otherwise).
// "imagenet" is the shipped tools/data/imagenet_classes.txt, found beside the executable.
std::vector<std::string> read_labels(std::string path, int64_t classes);
// "name (K)" with labels, else "class K".
std::string class_label(const std::vector<std::string>& labels, int64_t c);

// One colour bar per colormap in use (captioned with its methods), ticks from the sign: a
// diverging map runs −max … 0 … +max, the others 0 … max; and the note on how tiles are scaled.
// With `scale` (one map, as explain's PNG) the ticks are that map's values instead of "max".
struct Legend {
  GridDecorations grid;
  std::vector<ReportColorBar> report;
  std::string note;
};
Legend scale_legend(const std::vector<const MethodInfo*>& methods, const std::vector<AppliedRendering>& applied,
                    const Rendering& rendering, const double* scale = nullptr);

// An example's row label: its name (shortened), the predicted class with its probability, the
// class explained when it is another, and the true class when known (truth < 0: unknown).
std::vector<std::string> row_label(const std::string& name, const std::vector<std::string>& labels,
                                   const std::vector<double>& probabilities, int64_t predicted, int64_t explained,
                                   int64_t truth = -1);

}  // namespace gradlens::cli
