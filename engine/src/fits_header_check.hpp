// A guard in front of CFITSIO: the headers of a FITS file checked from its raw
// 2880-byte records before CFITSIO parses them, so that a hostile or broken
// file gets a clear error instead of a CFITSIO abort or a huge allocation.
// Checked per HDU: the header ends (END) within the file; the values CFITSIO
// reads as strings (XTENSION, EXTNAME, TTYPEn, TFORMn, TUNITn, TDIMn, TDISPn,
// CTYPEn, CUNITn) are quoted strings; BITPIX, NAXIS (0-999), NAXISn,
// TFIELDS (0-999), PCOUNT and GCOUNT are integers in range; and the data the
// header claims fit in the rest of the file (no overflow). Gzip-compressed
// files are left to CFITSIO (it decompresses them in memory).
#pragma once
#include <string>

namespace ds::fits::detail {

// Throws ds::Error naming the file, the HDU (0-based) and the key at fault.
void check_raw_headers(const std::string& path);

}  // namespace ds::fits::detail
