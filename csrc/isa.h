/* isa.h: which instruction-set path the kernels run (internal). */
#ifndef FASTMLP_ISA_H
#define FASTMLP_ISA_H

/* The x86-64 paths exist only where the compiler can target them. */
#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__)
#define FM_HAVE_X86_PATHS 1
#else
#define FM_HAVE_X86_PATHS 0
#endif

#endif
