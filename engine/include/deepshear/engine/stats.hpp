// Small order statistics shared by the modules.
#pragma once
#include <vector>

namespace ds {

// The median of v (the mean of the two middle values when v.size() is even);
// NaN when v is empty. Takes v by value: it is reordered.
double median(std::vector<double> v);

}  // namespace ds
