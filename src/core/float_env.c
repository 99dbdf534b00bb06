#include "core/float_env.h"

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>

/* MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6). */
enum { FLUSH_BITS = 0x8040u };

unsigned float_env_flush_subnormals(void) {
    unsigned previous = _mm_getcsr();
    _mm_setcsr(previous | FLUSH_BITS);
    return previous;
}

void float_env_restore(unsigned previous) { _mm_setcsr(previous); }

int float_env_flushing(void) { return (_mm_getcsr() & FLUSH_BITS) == FLUSH_BITS; }

#else /* other CPUs keep their default: slower on subnormals, never wrong */

unsigned float_env_flush_subnormals(void) { return 0; }
void float_env_restore(unsigned previous) { (void)previous; }
int float_env_flushing(void) { return 0; }

#endif
