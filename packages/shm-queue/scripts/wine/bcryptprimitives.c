/* Wine 8 (Debian 12) has no bcryptprimitives.dll, whose ProcessPrng every Rust program since Rust 1.78 imports for
 * its random numbers, rolldown's Windows binding (vitest's bundler) among them. This stand-in, built with MinGW-w64
 * into the test prefix only, answers from RtlGenRandom (advapi32's SystemFunction036), the same kernel generator. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}
