/* The kernel bodies, in dependency order; each impl_*.c includes them per dtype. */
#include "vexp.template.h"
#include "activation.template.h"
#include "gemm.template.h"
#include "dense.template.h"
#include "sgd.template.h"
#include "cost.template.h"
#include "epoch.template.h"
