# Finds deepshear's dependencies, all from Debian packages. A missing one stops
# the configure step with one message naming the package to install
# (./run.sh installs them all when run as root).
find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "deepshear: pkg-config not found: install the Debian package 'pkg-config' (apt-get install pkg-config)")
endif()

macro(deepshear_require found what debpkg)
  if(NOT ${found})
    message(FATAL_ERROR "deepshear: ${what} not found: install the Debian package '${debpkg}' (apt-get install ${debpkg})")
  endif()
endmacro()

find_package(Eigen3 3.4 QUIET NO_MODULE)
deepshear_require(Eigen3_FOUND "Eigen 3.4" libeigen3-dev)

find_package(OpenMP QUIET COMPONENTS CXX)
deepshear_require(OpenMP_CXX_FOUND "OpenMP for C++" libgomp1)

pkg_check_modules(DS_CFITSIO QUIET IMPORTED_TARGET cfitsio)
deepshear_require(DS_CFITSIO_FOUND "CFITSIO" libcfitsio-dev)
pkg_check_modules(DS_FFTW QUIET IMPORTED_TARGET fftw3 fftw3f)
deepshear_require(DS_FFTW_FOUND "FFTW3 (double and single precision)" libfftw3-dev)
pkg_check_modules(DS_CAIRO QUIET IMPORTED_TARGET cairo)
deepshear_require(DS_CAIRO_FOUND "cairo" libcairo2-dev)

# nlohmann-json (header-only) reads and writes every JSON document.
find_package(nlohmann_json 3 QUIET)
deepshear_require(nlohmann_json_FOUND "nlohmann-json" nlohmann-json3-dev)

# Optional: HDF5 for importing Keras weights (Debian: libhdf5-dev).
pkg_check_modules(DS_HDF5 QUIET IMPORTED_TARGET hdf5)
set(DEEPSHEAR_HAVE_HDF5 ${DS_HDF5_FOUND})
if(DEEPSHEAR_HAVE_HDF5)
else()
  message(STATUS "deepshear: HDF5 not found, Keras import disabled (Debian package libhdf5-dev enables it)")
endif()

if(DEEPSHEAR_BUILD_TESTS)
  find_package(doctest QUIET)
  deepshear_require(doctest_FOUND "doctest" doctest-dev)
endif()
