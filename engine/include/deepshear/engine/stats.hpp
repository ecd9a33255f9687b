// Small order statistics shared by the modules.
#pragma once
#include <vector>

namespace ds {

// The median of v (the mean of the two middle values when v.size() is even);
// NaN when v is empty. Takes v by value: it is reordered.
double median(std::vector<double> v);

// The upper of v's two middle values (the median when v.size() is odd): one
// of v's own values, no averaging. v is reordered; it must not be empty.
float upper_middle(std::vector<float>& v);

}  // namespace ds
