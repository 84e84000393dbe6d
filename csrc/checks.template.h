/* Argument checks shared by the kernels (dtype independent, so defined once). */
#ifndef FM_CHECKS_DEFINED
#define FM_CHECKS_DEFINED

/* Fail with `status` from the enclosing kernel when `cond` holds. */
#define FM_FAIL_IF(cond, status) \
    do {                         \
        if (cond) return (status); \
    } while (0)

/* A row-major matrix argument: non-NULL unless it has no rows, ld covers its row. */
#define FM_CHECK_MATRIX(ptr, rows, cols, ld)               \
    do {                                                   \
        FM_FAIL_IF((rows) > 0 && (ptr) == NULL, FM_ERR_NULL); \
        FM_FAIL_IF((ld) < (cols), FM_ERR_LD);              \
    } while (0)

#endif
