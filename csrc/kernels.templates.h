/* The kernel templates in dependency order; kernels.c includes this once per dtype. */
#include "checks.template.h"
#include "activation.template.h"
#include "dense.template.h"
#include "sgd.template.h"
#include "cost.template.h"
