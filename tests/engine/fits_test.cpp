// FITS: round trips of every image type, cubes, tables of every column kind,
// header keys, gzip reading; a FITS file written byte by byte here (BSCALE and
// BZERO by the standard, not by CFITSIO); the public catalogues in ../shared;
// and bad input, each failing with an error that names what is wrong.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "deepshear/engine/fits.hpp"
#include "test_support.hpp"

using namespace ds::fits;
using ds::test::TempDir;

namespace {

using ds::test::error_of;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A minimal FITS writer for one 2-D int16 image with BSCALE/BZERO, following
// the FITS standard (80-character cards, 2880-byte blocks, big-endian data).
void write_scaled_int16_by_hand(const std::string& path, const std::vector<std::int16_t>& raw, long ny, long nx,
                                double bscale, double bzero) {
  std::string h;
  auto card = [&](const std::string& text) { h += text + std::string(80 - text.size(), ' '); };
  char buf[81];
  card("SIMPLE  =                    T");
  card("BITPIX  =                   16");
  card("NAXIS   =                    2");
  std::snprintf(buf, sizeof buf, "NAXIS1  = %20ld", nx);
  card(buf);
  std::snprintf(buf, sizeof buf, "NAXIS2  = %20ld", ny);
  card(buf);
  std::snprintf(buf, sizeof buf, "BSCALE  = %20.6f", bscale);
  card(buf);
  std::snprintf(buf, sizeof buf, "BZERO   = %20.6f", bzero);
  card(buf);
  card("OBJECT  = 'hand-made'");
  card("END");
  h += std::string((2880 - h.size() % 2880) % 2880, ' ');
  std::string d;
  for (std::int16_t v : raw) {
    auto u = static_cast<std::uint16_t>(v);
    d += char(u >> 8);
    d += char(u & 0xff);
  }
  d += std::string((2880 - d.size() % 2880) % 2880, '\0');
  std::ofstream(path, std::ios::binary) << h << d;
}

}  // namespace

TEST_CASE("images of every pixel type round-trip") {
  TempDir tmp;
  ds::ImageD src(7, 5);
  for (long y = 0; y < 7; ++y)
    for (long x = 0; x < 5; ++x) src(y, x) = double(y * 5 + x) - 10.0;  // integers in [-10, 24]
  const PixelType types[] = {PixelType::UInt8, PixelType::Int16, PixelType::Int32, PixelType::Int64,
                             PixelType::Float32, PixelType::Float64};
  std::string path = tmp / "types.fits";
  {
    FitsWriter w(path);
    for (PixelType t : types) w.write_image(src, t, "T" + std::to_string(int(t) < 0 ? 100 - int(t) : int(t)));
    w.commit();
  }
  FitsFile f(path);
  REQUIRE(f.num_hdus() == 6);
  for (int i = 0; i < 6; ++i) {
    auto img = f.hdu(i).read_image<double>();
    REQUIRE(img.ny() == 7);
    REQUIRE(img.nx() == 5);
    CHECK(f.info().bitpix == int(types[i]));
    for (long y = 0; y < 7; ++y)
      for (long x = 0; x < 5; ++x) {
        double expect = types[i] == PixelType::UInt8 ? std::max(0.0, src(y, x)) : src(y, x);  // uint8 clips
        CHECK(img(y, x) == expect);
      }
  }
  // Non-integer values survive float types exactly.
  ds::ImageF frac(2, 3);
  frac(1, 2) = 0.123456789f;
  std::string p2 = tmp / "frac.fits";
  FitsWriter w2(p2);
  w2.write_image(frac, PixelType::Float32);
  w2.commit();
  CHECK(FitsFile(p2).read_image<float>()(1, 2) == 0.123456789f);
}

TEST_CASE("BSCALE and BZERO of a file written by the FITS standard are applied") {
  TempDir tmp;
  std::string path = tmp / "scaled.fits";
  std::vector<std::int16_t> raw = {-3, 0, 7, 100, -32768, 32767};
  write_scaled_int16_by_hand(path, raw, 2, 3, 0.5, 1000.0);
  FitsFile f(path);
  auto img = f.read_image<double>();
  REQUIRE(img.ny() == 2);
  REQUIRE(img.nx() == 3);
  for (std::size_t i = 0; i < raw.size(); ++i) CHECK(img.data()[i] == 1000.0 + 0.5 * raw[i]);
  CHECK(f.key_string("OBJECT") == "hand-made");
  CHECK(f.key_double("BSCALE") == 0.5);
}

TEST_CASE("the SDSS stamps of GalSim's HSM tests read as unsigned 16-bit with their offset") {
  DS_REQUIRE_SHARED(path, "galsim-testdata/tests/HSM_precomputed/psf.0.fits");
  FitsFile f(path);
  auto img = f.read_image<double>();
  CHECK(img.ny() == 51);
  CHECK(img.nx() == 51);
  CHECK(f.info().equiv_bitpix == 20);  // BITPIX 16 with BZERO 32768
  double peak = 0;
  for (double v : img) peak = std::max(peak, v);
  CHECK(peak - 1000 == doctest::Approx(29000).epsilon(0.01));  // data README: peak 29000 after the offset
}

TEST_CASE("cubes round-trip as (nz, ny, nx)") {
  TempDir tmp;
  ds::Tensor cube({3, 4, 5});
  for (long i = 0; i < cube.size(); ++i) cube[i] = float(i) * 0.25f;
  std::string path = tmp / "cube.fits";
  FitsWriter w(path);
  w.write_cube(cube, PixelType::Float32, "STAMPS");
  w.commit();
  FitsFile f(path);
  auto info = f.hdu("stamps").info();
  CHECK(info.shape == std::vector<long>{3, 4, 5});
  auto back = f.read_cube();
  CHECK(back.shape() == cube.shape());
  CHECK(back[59] == cube[59]);
  CHECK(back.image(2)(3, 4) == 59 * 0.25f);
  CHECK(contains(error_of([&] { f.read_image<float>(); }), "expected 2 axes"));
}

TEST_CASE("tables round-trip every column kind; names match case-insensitively") {
  TempDir tmp;
  std::string path = tmp / "table.fits";
  {
    FitsWriter w(path);
    w.write_table({TableColumn::doubles("G1", {0.1, -0.2, 0.3}, 1, "shear"),
                   TableColumn::floats("FLUX", {1.5f, 2.5f, 3.5f}),
                   TableColumn::int32s("ID", {7, 8, 9}),
                   TableColumn::int64s("BIGID", {1LL << 40, -(1LL << 40), 0}),
                   TableColumn::strings("NAME", {"alpha", "be", ""}),
                   TableColumn::doubles("SERSICFIT", std::vector<double>(24, 0.0), 8)},
                  "CAT");
    w.write_key("ZP", 25.419, "zero point");
    w.write_key("NSTAMP", 3LL);
    w.write_key("SYMM", true);
    w.write_key("ORIGIN", "deepshear test");
    w.commit();
  }
  FitsFile f(path);
  f.hdu("cat");
  CHECK(f.num_rows() == 3);
  CHECK(f.read_column("g1") == std::vector<double>{0.1, -0.2, 0.3});
  CHECK(f.read_column("Flux")[2] == 3.5);
  CHECK(f.read_int_column("id") == std::vector<long long>{7, 8, 9});
  CHECK(f.read_int_column("BIGID")[1] == -(1LL << 40));
  CHECK(f.read_string_column("name") == std::vector<std::string>{"alpha", "be", ""});
  auto m = f.read_vector_column("sersicfit");
  CHECK(m.rows() == 3);
  CHECK(m.cols() == 8);
  auto cols = f.columns();
  REQUIRE(cols.size() == 6);
  CHECK(cols[0].unit == "shear");
  CHECK(cols[5].tform == "8D");
  CHECK(f.key_double("zp") == 25.419);
  CHECK(f.key_long("NSTAMP") == 3);
  CHECK(f.key_bool("SYMM"));
  CHECK(f.key_string("ORIGIN") == "deepshear test");
  CHECK_FALSE(f.key_double_opt("NOPE").has_value());
}

TEST_CASE("gzip-compressed FITS files read transparently") {
  TempDir tmp;
  std::string path = tmp / "z.fits";
  ds::ImageF img(16, 16);
  for (long i = 0; i < img.size(); ++i) img.data()[i] = float(i % 17);
  {
    FitsWriter w(path);
    w.write_image(img, PixelType::Float32);
    w.commit();
  }
  REQUIRE(std::system(("gzip -f '" + path + "'").c_str()) == 0);
  FitsFile f(path + ".gz");
  auto back = f.read_image<float>();
  CHECK(back(15, 15) == img(15, 15));
  CHECK(back.sum() == img.sum());
  // A gzip trailer claiming 4 GB from a few KB (fuzz_fits: CFITSIO allocated what it claims).
  std::ifstream in(path + ".gz", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  bytes.replace(bytes.size() - 4, 4, std::string("\xff\xff\xff\xff", 4));
  std::ofstream(path + ".gz", std::ios::binary) << bytes;
  const std::string e = ds::test::error_of([&] { FitsFile g(path + ".gz"); });
  CHECK(e.find("the gzip trailer claims 4294967295 bytes uncompressed from") != std::string::npos);
}

TEST_CASE("the BlendingToolKit COSMOS catalogue: 100 rows and GalSim's columns") {
  DS_REQUIRE_SHARED(path, "BlendingToolKit/data/cosmos/real_galaxy_catalog_26_extension_example.fits");
  FitsFile f(path);
  f.hdu(1);
  CHECK(f.num_rows() == 100);
  for (const char* c : {"IDENT", "MAG", "BAND", "WEIGHT", "GAL_FILENAME", "PSF_FILENAME", "GAL_HDU", "PSF_HDU",
                        "PIXEL_SCALE", "NOISE_MEAN", "NOISE_VARIANCE"})
    CHECK_MESSAGE(f.has_column(c), c);
  auto scale = f.read_column("pixel_scale");
  for (double s : scale) CHECK(s == doctest::Approx(0.03));
}

TEST_CASE("the COSMOS 23.5 example catalogue: row 2 is galaxy 100533 (values from the data README)") {
  DS_REQUIRE_SHARED(path, "galsim-testdata/examples/data/real_galaxy_catalog_23.5_example.fits");
  FitsFile f(path);
  f.hdu(1);
  REQUIRE(f.num_rows() == 100);
  CHECK(f.read_int_column("IDENT")[2] == 100533);
  CHECK(f.read_column("RA")[2] == doctest::Approx(150.117017).epsilon(1e-8));
  CHECK(f.read_column("DEC")[2] == doctest::Approx(2.513069).epsilon(1e-6));
  CHECK(f.read_column("MAG")[2] == doctest::Approx(20.322).epsilon(1e-4));
  CHECK(f.read_column("WEIGHT")[2] == doctest::Approx(0.23688).epsilon(1e-4));
  CHECK(f.read_column("NOISE_VARIANCE")[2] == doctest::Approx(8.22514e-6).epsilon(1e-5));
  CHECK(f.read_string_column("BAND")[2] == "F814W");
  CHECK(f.read_string_column("GAL_FILENAME")[2] == "real_galaxy_images.fits");
}

TEST_CASE("the parametric-fit companion: vector columns 8D/16D (row 0 from the data README)") {
  DS_REQUIRE_SHARED(path, "galsim-testdata/examples/data/real_galaxy_catalog_23.5_example_fits.fits");
  FitsFile f(path);
  f.hdu(1);
  CHECK(f.read_int_column("IDENT")[0] == 100027);
  CHECK(f.read_column("mag_auto")[0] == doctest::Approx(20.913).epsilon(1e-4));
  CHECK(f.read_column("flux_radius")[0] == doctest::Approx(14.03).epsilon(1e-3));
  auto sersic = f.read_vector_column("sersicfit");
  CHECK(sersic.cols() == 8);
  CHECK(sersic(0, 2) == doctest::Approx(1.97).epsilon(5e-3));   // Sersic n
  CHECK(sersic(0, 3) == doctest::Approx(0.475).epsilon(5e-3));  // axis ratio q
  CHECK(f.read_vector_column("bulgefit").cols() == 16);
  auto hlr = f.read_vector_column("hlr");
  CHECK(hlr(0, 0) == doctest::Approx(0.3936).epsilon(1e-3));
  // Checked relation (data README): hlr[0] = sersicfit[1] * sqrt(q) * 0.03.
  for (long r = 0; r < sersic.rows(); ++r)
    CHECK(hlr(r, 0) == doctest::Approx(sersic(r, 1) * std::sqrt(sersic(r, 3)) * 0.03).epsilon(1e-3));
}

TEST_CASE("bad input fails with an error naming the file and the thing at fault") {
  TempDir tmp;
  std::string empty = tmp / "empty.fits", text = tmp / "notes.fits", trunc = tmp / "trunc.fits",
              good = tmp / "good.fits";
  std::ofstream(empty).close();
  std::ofstream(text) << "this is a text file, not FITS\n";
  {
    FitsWriter w(good);
    ds::ImageF img(64, 64);
    w.write_image(img, PixelType::Float32);
    w.write_table({TableColumn::strings("NAME", {"a"}), TableColumn::doubles("MAG", {20.0})}, "CAT");
    w.commit();
  }
  {
    std::ifstream in(good, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(trunc, std::ios::binary) << bytes.substr(0, 2880 + 1000);  // header + part of the data
  }
  std::string e = error_of([&] { FitsFile f(empty); });
  CHECK(contains(e, empty));
  CHECK(contains(e, "empty"));
  e = error_of([&] { FitsFile f(text); });
  CHECK(contains(e, text));
  CHECK(contains(e, "not a readable FITS file"));
  e = error_of([&] { FitsFile f(trunc); f.read_image<float>(); f.hdu(1); });
  CHECK(contains(e, trunc));
  e = error_of([&] { FitsFile(tmp / "missing.fits"); });
  CHECK(contains(e, "no such file"));

  FitsFile f(good);
  e = error_of([&] { f.hdu(5); });
  CHECK(contains(e, good));
  CHECK(contains(e, "HDU 5 does not exist"));
  e = error_of([&] { f.hdu("SCI"); });
  CHECK(contains(e, "'SCI'"));
  f.hdu("CAT");
  e = error_of([&] { f.read_column("FLUX_RADIUS"); });
  CHECK(contains(e, good));
  CHECK(contains(e, "HDU 1 'CAT'"));
  CHECK(contains(e, "column 'FLUX_RADIUS' not found"));
  e = error_of([&] { f.read_column("NAME"); });
  CHECK(contains(e, "column 'NAME'"));
  CHECK(contains(e, "not a number"));
  e = error_of([&] { f.read_int_column("MAG"); });
  CHECK(contains(e, "not an integer"));
  e = error_of([&] { f.key_double("GAIN"); });
  CHECK(contains(e, "key 'GAIN' is missing"));
  e = error_of([&] { f.read_image<float>(); });
  CHECK(contains(e, "not an image"));
}

TEST_CASE("a FITS writer that is never committed leaves nothing behind") {
  TempDir tmp;
  std::string path = tmp / "out.fits";
  {
    FitsWriter w(path);
    ds::ImageF img(4, 4);
    w.write_image(img, PixelType::Float32);
  }  // destroyed without commit()
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(std::filesystem::is_empty(tmp.path));
}

TEST_CASE("planes of a cube read on their own equal the same planes of the whole cube") {
  TempDir tmp;
  ds::Tensor cube({5, 3, 4});
  for (long i = 0; i < cube.size(); ++i) cube[i] = float(i);
  std::string path = tmp / "c.fits";
  FitsWriter w(path);
  w.write_cube(cube, PixelType::Float32);
  w.commit();
  FitsFile f(path);
  auto part = f.read_cube_planes(2, 2);
  CHECK(part.shape() == ds::Tensor::Shape({2, 3, 4}));
  for (long i = 0; i < part.size(); ++i) CHECK(part[i] == cube[2 * 12 + i]);
  CHECK(contains(error_of([&] { f.read_cube_planes(4, 2); }), "outside a cube of 5"));
}

namespace {

// A raw FITS file of header cards (each padded to 80 characters, END added,
// padded to 2880 bytes) followed by `data_bytes` zero bytes: hostile headers
// that CFITSIO must never see.
std::string raw_fits(const std::vector<std::vector<std::string>>& hdus, std::size_t data_bytes = 0) {
  std::string out;
  for (const auto& cards : hdus) {
    std::string h;
    for (const auto& c : cards) h += (c + std::string(80, ' ')).substr(0, 80);
    h += (std::string("END") + std::string(80, ' ')).substr(0, 80);
    h.resize((h.size() + 2879) / 2880 * 2880, ' ');
    out += h;
  }
  return out + std::string(data_bytes, '\0');
}

std::string open_error(const ds::test::TempDir& tmp, const std::string& bytes) {
  const std::string path = tmp / "hostile.fits";
  std::ofstream(path, std::ios::binary) << bytes;
  return ds::test::error_of([&] { ds::fits::FitsFile f(path); f.all_hdus(); });
}

const std::vector<std::string> kPrimary = {"SIMPLE  =                    T", "BITPIX  =                    8",
                                           "NAXIS   =                    0", "EXTEND  =                    T"};

std::vector<std::string> table_header(const std::string& tfields, const std::string& ttype) {
  return {"XTENSION= 'BINTABLE'", "BITPIX  =                    8", "NAXIS   =                    2",
          "NAXIS1  =                    8", "NAXIS2  =                    1", "PCOUNT  =                    0",
          "GCOUNT  =                    1", "TFIELDS =           " + tfields, "TTYPE1  = " + ttype,
          "TFORM1  = '1D      '"};
}

}  // namespace

TEST_CASE("hostile FITS headers are refused before CFITSIO parses them") {
  ds::test::TempDir tmp;
  // A sane file of the same shape opens.
  CHECK(open_error(tmp, raw_fits({kPrimary, table_header("         1", "'G1      '")}, 2880)).empty());
  // An unquoted TTYPE value (CFITSIO 4.2 aborts with a buffer overflow on a long one).
  std::string e = open_error(tmp, raw_fits({kPrimary, table_header("         1", std::string(69, 'A'))}, 2880));
  CHECK(e.find("[HDU 1]: key TTYPE1 holds an unquoted value") != std::string::npos);
  // TFIELDS far beyond the standard's 999 (CFITSIO tried a 343 GB allocation).
  e = open_error(tmp, raw_fits({kPrimary, table_header("2147483647", "'G1      '")}, 2880));
  CHECK(e.find("key TFIELDS = 2147483647 is out of range") != std::string::npos);
  // A 40000 x 40000 float32 image claimed by a 5.7 KB file.
  const std::vector<std::string> big = {"SIMPLE  =                    T", "BITPIX  =                  -32",
                                        "NAXIS   =                    2", "NAXIS1  =                40000",
                                        "NAXIS2  =                40000"};
  e = open_error(tmp, raw_fits({big}, 2880));
  CHECK(e.find("claims 6400000000 bytes of data but the file holds 2880") != std::string::npos);
  // 2^32 x 2^32 pixels: the count must not wrap to 0.
  const std::vector<std::string> wrap = {"SIMPLE  =                    T", "BITPIX  =                  -32",
                                         "NAXIS   =                    2", "NAXIS1  =           4294967296",
                                         "NAXIS2  =           4294967296"};
  e = open_error(tmp, raw_fits({wrap}, 2880));
  CHECK(e.find("overflows") != std::string::npos);
  // A header that never ends.
  std::string no_end = raw_fits({kPrimary});
  no_end.replace(4 * 80, 3, "   ");  // the END card follows the four of kPrimary
  CHECK(open_error(tmp, no_end).find("no END card") != std::string::npos);
}

TEST_CASE("a table's column cards are checked before CFITSIO sizes its columns") {
  ds::test::TempDir tmp;
  auto table = [&](std::vector<std::string> extra, const std::string& tfields = "         1") {
    auto h = table_header(tfields, "'G1      '");
    h.insert(h.end(), extra.begin(), extra.end());
    return open_error(tmp, raw_fits({kPrimary, h}, 2880));
  };
  // Two columns declared, one defined (fuzz_fits: TFORM10 missing made CFITSIO ask for 2.8 PB).
  CHECK(table({}, "         2").find("key TFORM2 is missing (TFIELDS = 2)") != std::string::npos);
  // A column number with a leading zero (CFITSIO reads TFORM01 as TFORM1).
  CHECK(table({"TFORM01 = '1D      '"}).find("key TFORM01 has a column number with a leading zero") !=
        std::string::npos);
  // A column key given twice.
  CHECK(table({"TTYPE1  = 'G2      '"}).find("key TTYPE1 appears 2 times") != std::string::npos);
  // Columns wider than the row: NAXIS1 = 8 bytes, the forms below need more.
  auto wide = [&](const std::string& form) {
    auto h = table_header("         1", "'G1      '");
    h.back() = "TFORM1  = '" + form + "'";
    return open_error(tmp, raw_fits({kPrimary, h}, 2880));
  };
  CHECK(wide("2D").find("the columns need 16 bytes per row (to TFORM1) but NAXIS1 = 8") != std::string::npos);
  CHECK(wide("99999999999999999999E").find("is not a binary-table column format") != std::string::npos);
  CHECK(wide("1Z").find("key TFORM1 = '1Z' is not a binary-table column format") != std::string::npos);
  // A card whose keyword does not start in column 1 (fuzz_fits: a table header
  // shifted by 5 bytes, END included, made CFITSIO ask for 22 PB).
  auto shifted = table_header("         1", "'G1      '");
  shifted.back() = "     TFORM1  = '1D      '";
  CHECK(open_error(tmp, raw_fits({kPrimary, shifted}, 2880)).find("card 10 ('TFORM1  = '1D      '...') has its keyword "
                                                                   "in the wrong columns") != std::string::npos);
  // A mandatory key missing.
  auto no_pcount = table_header("         1", "'G1      '");
  no_pcount.erase(no_pcount.begin() + 5);
  CHECK(open_error(tmp, raw_fits({kPrimary, no_pcount}, 2880)).find("the mandatory key PCOUNT is missing") !=
        std::string::npos);
  // Bits pack eight to a byte: 64 X fill the 8 bytes, 65 do not.
  CHECK(wide("64X").empty());
  CHECK(wide("65X").find("need 9 bytes per row") != std::string::npos);
  // Forms that fit open, a lower-case one too.
  CHECK(wide("1d").empty());
  CHECK(wide("8A").empty());
}
