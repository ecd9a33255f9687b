// Fuzz target: FITS images and tables through FitsFile (every HDU's header,
// images up to 4 Mpixel, every table column).
#include "deepshear/engine/fits.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = ds::fuzz::as_file(data, size, ".fits");
  return ds::fuzz::refuse_or_read([&] {
    ds::fits::FitsFile f(path);
    for (const auto& h : f.all_hdus()) {
      f.hdu(h.index);
      f.cards();
      long pixels = h.shape.empty() ? 0 : 1;
      for (long d : h.shape) pixels *= d;
      if (h.kind == ds::fits::HduKind::Image && h.shape.size() == 2 && pixels <= (4L << 20)) f.read_image<float>();
      if (h.kind != ds::fits::HduKind::Image && h.nrows <= 100000)
        for (const auto& c : h.columns) {
          if (c.is_string()) f.read_string_column(c.name);
          else if (c.repeat == 1) f.read_column(c.name);
          else if (c.repeat <= 4096) f.read_vector_column(c.name);
        }
    }
  });
}
