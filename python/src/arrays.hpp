// numpy <-> deepshear: stamps read in place when they can be, shapes checked
// with messages that name the expected shape, tables as dicts of arrays.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "deepshear/engine/fits.hpp"
#include "deepshear/engine/image.hpp"

namespace ds::py {

namespace pyb = pybind11;

// Stamps as the library reads them: n x ny x nx float32, packed row-major at
// `data`. `keep` holds the array the pointer points into (the caller's own
// when `borrowed`, else a float32 C-contiguous copy).
struct StampArray {
  pyb::array keep;
  const float* data = nullptr;
  long n = 0, ny = 0, nx = 0;
  bool borrowed = false;
};

// From a numpy array (or anything numpy.asarray takes) of shape (N, ny, nx),
// or (ny, nx) for one stamp. float32 C-contiguous arrays are used without a
// copy; other real dtypes (float64, float16, integers) and other layouts are
// copied to float32 C order; complex, boolean, object and string arrays are
// refused (TypeError), as are other ranks (ValueError naming `expected`).
StampArray stamp_array(const pyb::handle& obj, const std::string& what, const std::string& expected);

// One image (ny, nx) as float32 (copied when it is not float32 C order).
StampArray image_array(const pyb::handle& obj, const std::string& what);

// A (n, ny, nx) float32 array that owns a copy of `count` floats at `data`.
pyb::array_t<float> float_array(const std::vector<long>& shape, const float* data);

// A table (FITS columns) as a dict of 1-d numpy arrays, in column order.
pyb::dict table_dict(const std::vector<fits::TableColumn>& cols);

}  // namespace ds::py
