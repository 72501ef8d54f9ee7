// Equal (ONNX operators §Equal, opsets 1/7/11/13/19): y = (a = b) as 0/1, broadcasting (see
// compare_layer.h). Not differentiable. Folded exactly for integer constants.
#include "layers/compare_layer.h"

namespace gradlens {

class Equal : public CompareLayer {
 protected:
  bool compare(double a, double b) const override { return a == b; }
  bool compare_ints(int64_t a, int64_t b) const override { return a == b; }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Equal, gradlens::Equal)
