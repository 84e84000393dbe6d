/* status.c: the sentence for each fm_status. */
#include "fastmlp.h"

const char *fm_strerror(int status)
{
    switch (status) {
    case FM_OK: return "success";
    case FM_ERR_NULL: return "a required array pointer is NULL";
    case FM_ERR_SIZE: return "a size is negative, or zero where at least one is needed";
    case FM_ERR_LD: return "a leading dimension is smaller than the row it holds";
    case FM_ERR_ACTIVATION: return "unknown activation, or one this kernel cannot differentiate";
    case FM_ERR_COST: return "unknown cost, or one the output activation does not go with";
    case FM_ERR_VALUE: return "a scalar argument is out of range";
    case FM_ERR_NOMEM: return "out of memory for the thread pool's scratch";
    case FM_ERR_NONFINITE: return "an input holds a NaN or an infinity";
    case FM_ERR_DTYPE: return "the network's arrays are of the other floating-point type";
    case FM_ERR_OVERFLOW: return "finite inputs overflowed inside the network to a NaN or infinite output";
    case FM_ERR_INDEX: return "compressed rows hold an offset or a column index out of range";
    default: return "unknown fastmlp status code";
    }
}
