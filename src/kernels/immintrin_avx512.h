// Internal: <immintrin.h> for the files compiled with the AVX-512 flags.
// GCC 12's AVX-512 intrinsics fill unused sources with _mm512_undefined_ps(), which it
// then reports as "used uninitialized" wherever they are inlined (a false alarm about
// its own header, GCC bug 105593): silence exactly that, inside the header only.
#pragma once
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
