/* The instruction-set path's vector of REALs (GCC vector extensions, FM_VEC_BYTES wide). */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif

typedef REAL FM_T(vec) __attribute__((vector_size(FM_VEC_BYTES), may_alias));
/* The same vector at any element alignment, for loads and stores into arrays. */
typedef REAL FM_T(uvec) __attribute__((vector_size(FM_VEC_BYTES), aligned(sizeof(REAL)), may_alias));
