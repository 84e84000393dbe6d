/* api.c: the public kernels of fastmlp.h, for both dtypes; see api.template.h. */
#include "internal.h"

/* The workspace layout is plain arithmetic, the same for every path. */
#define FM_TEMPLATE "workspace.template.h"
#include "instantiate.h"
#undef FM_TEMPLATE

#define FM_ISA_SUFFIX _baseline
#define FM_TEMPLATE "impl_decls.template.h"
#include "instantiate.h"
#undef FM_ISA_SUFFIX
#if FM_HAVE_X86_PATHS
#define FM_ISA_SUFFIX _avx2
#include "instantiate.h"
#undef FM_ISA_SUFFIX
#define FM_ISA_SUFFIX _avx512
#include "instantiate.h"
#undef FM_ISA_SUFFIX
#endif
#undef FM_TEMPLATE

#define FM_TEMPLATE "api.template.h"
#include "instantiate.h"
#undef FM_TEMPLATE

/* The workspace sizes take the dtype from the network. */
size_t fm_train_workspace(const fm_network *net, ptrdiff_t batch, int compressed)
{
    if (net == NULL) return 0;
    return net->dtype == FM_FLOAT32 ? train_workspace_f32(net, batch, compressed)
                                    : train_workspace_f64(net, batch, compressed);
}

size_t fm_forward_workspace(const fm_network *net, ptrdiff_t m)
{
    if (net == NULL) return 0;
    return net->dtype == FM_FLOAT32 ? forward_workspace_f32(net, m)
                                    : forward_workspace_f64(net, m);
}
