#include "arrays.hpp"

#include <pybind11/stl.h>

#include <cstring>

namespace ds::py {

namespace {

std::string shape_text(const pyb::array& a) {
  std::string s = "(";
  for (pyb::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

// The array as float32 C order: itself when it already is, else a copy.
pyb::array as_float32(pyb::array a, const std::string& what) {
  const char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u')
    throw pyb::type_error(what + ": dtype " + std::string(pyb::str(a.dtype())) +
                          " is not a real number type (float32 is read in place; other float and integer types "
                          "are converted)");
  const bool ready = a.dtype().is(pyb::dtype::of<float>()) && (a.flags() & pyb::array::c_style);
  return ready ? a : pyb::array(pyb::array_t<float, pyb::array::c_style | pyb::array::forcecast>::ensure(a));
}

}  // namespace

StampArray stamp_array(const pyb::handle& obj, const std::string& what, const std::string& expected) {
  pyb::array in = pyb::array::ensure(obj);
  if (!in) throw pyb::type_error(what + ": expected a numpy array " + expected);
  if (in.ndim() != 2 && in.ndim() != 3)
    throw pyb::value_error(what + ": expected shape " + expected + ", got " + shape_text(in));
  StampArray s;
  s.keep = as_float32(in, what);
  s.borrowed = s.keep.ptr() == in.ptr();
  s.data = static_cast<const float*>(s.keep.data());
  const int d = int(s.keep.ndim());
  s.n = d == 3 ? long(s.keep.shape(0)) : 1;
  s.ny = long(s.keep.shape(d - 2)), s.nx = long(s.keep.shape(d - 1));
  return s;
}

StampArray image_array(const pyb::handle& obj, const std::string& what) {
  pyb::array in = pyb::array::ensure(obj);
  if (!in || in.ndim() != 2)
    throw pyb::value_error(what + ": expected one image of shape (ny, nx), got " +
                           (in ? shape_text(in) : std::string("no array")));
  return stamp_array(in, what, "(ny, nx)");
}

pyb::array_t<float> float_array(const std::vector<long>& shape, const float* data) {
  std::vector<pyb::ssize_t> dims(shape.begin(), shape.end());
  pyb::array_t<float> out(dims);
  std::memcpy(out.mutable_data(), data, sizeof(float) * std::size_t(out.size()));
  return out;
}

namespace {

template <class T>
pyb::array vector_array(const std::vector<T>& v, long repeat) {
  if (repeat <= 1) return pyb::array_t<T>(pyb::ssize_t(v.size()), v.data());
  return pyb::array_t<T>({pyb::ssize_t(v.size()) / repeat, pyb::ssize_t(repeat)}, v.data());
}

}  // namespace

pyb::dict table_dict(const std::vector<fits::TableColumn>& cols) {
  using Kind = fits::TableColumn::Kind;
  pyb::dict out;
  for (const auto& c : cols) {
    switch (c.kind) {
      case Kind::Double: out[c.name.c_str()] = vector_array(c.f64, c.repeat); break;
      case Kind::Float: out[c.name.c_str()] = vector_array(c.f32, c.repeat); break;
      case Kind::Int32: out[c.name.c_str()] = vector_array(c.i32, c.repeat); break;
      case Kind::Int64: out[c.name.c_str()] = vector_array(c.i64, c.repeat); break;
      case Kind::String: out[c.name.c_str()] = pyb::cast(c.str); break;
    }
  }
  return out;
}

}  // namespace ds::py
