/*
 * fastmlp.h: the C kernels of fastmlp, for dense (fully connected) layers.
 *
 * Conventions
 *   - Every symbol starts with fm_; every kernel exists as _f32 (float) and _f64 (double).
 *   - Row-major, batch first.  A layer with n_in inputs and n_out neurons has weights W of
 *     shape (n_out, n_in) (row j holds the weights into neuron j) and biases b of (n_out).
 *     A batch X has shape (m, n_in): one sample per row.
 *   - Arguments in BLAS order: sizes, then const inputs, then outputs.  A matrix is a
 *     pointer plus a leading dimension (the distance in elements between two rows, at
 *     least the number of columns).
 *   - Every kernel returns FM_OK (0) or a negative fm_status; fm_strerror() names it.
 *     Kernels never allocate in the training loop, print, abort or touch Python.  The
 *     only process-wide state is the thread pool and the chosen instruction-set path.
 *     Outputs must not overlap inputs.
 *   - Each kernel is compiled for several instruction sets (see fm_isa) and runs the best
 *     one the CPU supports; results agree across paths to rounding.
 */
#ifndef FASTMLP_H
#define FASTMLP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fm_status {
    FM_OK = 0,
    FM_ERR_NULL = -1,       /* a required pointer is NULL */
    FM_ERR_SIZE = -2,       /* a size is negative, or zero where at least one is needed */
    FM_ERR_LD = -3,         /* a leading dimension is smaller than its row length */
    FM_ERR_ACTIVATION = -4, /* unknown activation, or one this kernel cannot differentiate */
    FM_ERR_COST = -5,       /* unknown cost */
    FM_ERR_VALUE = -6,      /* a scalar argument is out of range (negative rate, ...) */
    FM_ERR_NOMEM = -7,      /* the thread pool could not allocate its scratch */
    FM_ERR_NONFINITE = -8,  /* an input holds a NaN or an infinity */
    FM_ERR_DTYPE = -9,      /* an fm_network of one dtype passed to a kernel of the other */
    FM_ERR_OVERFLOW = -10,  /* finite inputs gave a NaN or an infinite output */
    FM_ERR_INDEX = -11      /* compressed rows: an offset or a column out of range */
} fm_status;

/* Instruction-set paths.  FASTMLP_ISA=baseline|avx2|avx512 in the environment, or
   fm_set_isa(), forces one; otherwise the best the CPU supports is used. */
typedef enum fm_isa {
    FM_ISA_BASELINE = 0, /* SSE2 on x86-64, NEON on aarch64: any CPU of the architecture */
    FM_ISA_AVX2 = 1,     /* x86-64 with AVX2 and FMA */
    FM_ISA_AVX512 = 2    /* x86-64 with AVX-512 F, VL, BW and DQ */
} fm_isa;

int fm_get_isa(void);             /* the path in use */
int fm_set_isa(int isa);          /* FM_ERR_VALUE if this CPU (or build) lacks it */
int fm_isa_supported(int isa);    /* 1 or 0 */
const char *fm_isa_name(int isa); /* "baseline", "avx2", "avx512" */

/* Threads for large products (small work stays on the calling thread).  The default is
   $FASTMLP_NUM_THREADS, else the CPUs this process may run on.  A thread may override the
   count for the kernels it calls itself, leaving every other thread's count alone. */
int fm_get_num_threads(void);     /* the calling thread's count: its override, else the default */
int fm_set_num_threads(int n);    /* the process-wide default; 1 <= n <= 64, else FM_ERR_VALUE */
int fm_set_local_num_threads(int n); /* the calling thread's override; 0 removes it */
int fm_get_local_num_threads(void);  /* that override, 0 when there is none */

/* Activation applied by a layer to Z = X W^T + b. */
typedef enum fm_activation {
    FM_SIGMOID = 0,  /* a = 1 / (1 + exp(-z)), element by element */
    FM_IDENTITY = 1, /* a = z */
    FM_SOFTMAX = 2   /* a_j = exp(z_j) / sum_k exp(z_k), along each row */
} fm_activation;

/* Cost of outputs A against targets Y, averaged over the m rows. */
typedef enum fm_cost {
    FM_QUADRATIC = 0,      /* C = 1/(2m) sum (a - y)^2 */
    FM_CROSS_ENTROPY = 1,  /* C = -1/m sum (y ln a + (1 - y) ln(1 - a)) */
    FM_LOG_LIKELIHOOD = 2  /* C = -1/m sum y ln a   (for softmax outputs) */
} fm_cost;

/* A sentence naming a status code (static storage, never NULL). */
const char *fm_strerror(int status);

/*
 * Exponential, element by element: y[i] = e^x[i] (vectorised; at most 2 ulp from the
 * correctly rounded result, 0 below the range of the type, +inf above it).
 *   n  number of elements (>= 0)
 *   x  input, n elements
 *   y  output, n elements (may be the same array as x)
 */
int fm_exp_f32(ptrdiff_t n, const float *x, float *y);
int fm_exp_f64(ptrdiff_t n, const double *x, double *y);

/*
 * Sigmoid, element by element: a[i] = 1 / (1 + exp(-z[i])).
 *   n  number of elements (>= 0)
 *   z  input, n elements
 *   a  output, n elements (may be the same array as z)
 * Never overflows: sigmoid(+1000) is exactly 1 and sigmoid(-1000) exactly 0.
 */
int fm_sigmoid_f32(ptrdiff_t n, const float *z, float *a);
int fm_sigmoid_f64(ptrdiff_t n, const double *z, double *a);

/*
 * Dense forward pass: A = act(X W^T + b).
 *   m, n_in, n_out  batch rows (>= 0; m = 1 is the matrix-vector case), inputs, neurons (>= 1)
 *   activation      an fm_activation
 *   X, ldx          inputs, (m, n_in)
 *   W, ldw          weights, (n_out, n_in)
 *   b               biases, (n_out)
 *   A, lda          output activations, (m, n_out)
 */
int fm_dense_forward_f32(ptrdiff_t m, ptrdiff_t n_in, ptrdiff_t n_out, int activation,
                         const float *restrict X, ptrdiff_t ldx,
                         const float *restrict W, ptrdiff_t ldw,
                         const float *restrict b,
                         float *restrict A, ptrdiff_t lda);
int fm_dense_forward_f64(ptrdiff_t m, ptrdiff_t n_in, ptrdiff_t n_out, int activation,
                         const double *restrict X, ptrdiff_t ldx,
                         const double *restrict W, ptrdiff_t ldw,
                         const double *restrict b,
                         double *restrict A, ptrdiff_t lda);

/*
 * Dense backward pass over a batch, for a layer that computed A = act(X W^T + b).
 *   m, n_in, n_out  batch rows (>= 1), inputs, neurons (>= 1)
 *   activation      FM_SIGMOID: D = G * A * (1 - A)     (the sigmoid derivative)
 *                   FM_IDENTITY: D = G                   (G is already dC/dZ)
 *   X, ldx          the layer's inputs, (m, n_in)
 *   W, ldw          the layer's weights, (n_out, n_in)
 *   A, lda          the layer's outputs, (m, n_out)
 *   G, ldg          dC/dA per sample: the next layer's input gradient, or the cost's
 *                   derivative at the output, (m, n_out)
 *   D, ldd          out: the layer's error dC/dZ per sample (the "blame" of each neuron), (m, n_out)
 *   dW              out: weight gradient D^T X / m, (n_out, n_in), contiguous
 *   db              out: bias gradient, the column sums of D / m, (n_out)
 *   dX, lddx        out: input gradient D W, (m, n_in), or NULL to skip it (first layer)
 */
int fm_dense_backward_f32(ptrdiff_t m, ptrdiff_t n_in, ptrdiff_t n_out, int activation,
                          const float *restrict X, ptrdiff_t ldx,
                          const float *restrict W, ptrdiff_t ldw,
                          const float *restrict A, ptrdiff_t lda,
                          const float *restrict G, ptrdiff_t ldg,
                          float *restrict D, ptrdiff_t ldd,
                          float *restrict dW, float *restrict db,
                          float *restrict dX, ptrdiff_t lddx);
int fm_dense_backward_f64(ptrdiff_t m, ptrdiff_t n_in, ptrdiff_t n_out, int activation,
                          const double *restrict X, ptrdiff_t ldx,
                          const double *restrict W, ptrdiff_t ldw,
                          const double *restrict A, ptrdiff_t lda,
                          const double *restrict G, ptrdiff_t ldg,
                          double *restrict D, ptrdiff_t ldd,
                          double *restrict dW, double *restrict db,
                          double *restrict dX, ptrdiff_t lddx);

/*
 * Stochastic gradient descent step on one parameter array of n elements:
 *   plain (momentum == 0):  p -= lr * (g + decay * p)
 *   with momentum:          v = momentum * v - lr * (g + decay * p);  p += v
 *   n         number of elements (>= 0)
 *   lr        learning rate (>= 0)
 *   decay     per-step weight-decay coefficient (>= 0; pass 0 for biases)
 *   momentum  in [0, 1)
 *   g         gradient, n elements
 *   p         in/out: the parameters
 *   v         in/out: the velocity, n elements; may be NULL when momentum == 0
 */
int fm_sgd_update_f32(ptrdiff_t n, float lr, float decay, float momentum,
                      const float *restrict g, float *restrict p, float *restrict v);
int fm_sgd_update_f64(ptrdiff_t n, double lr, double decay, double momentum,
                      const double *restrict g, double *restrict p, double *restrict v);

/*
 * Cost of outputs A against targets Y, averaged over the m rows (see fm_cost).
 *   m, n      rows (>= 1), outputs per row (>= 1)
 *   cost      an fm_cost
 *   A, lda    outputs, (m, n)
 *   Y, ldy    targets, (m, n)
 *   out       out: the cost, accumulated in double for both dtypes
 * Logarithms are taken of max(a, smallest normal number), so an output of exactly 0 or 1
 * gives a large finite cost rather than inf or NaN.
 */
int fm_cost_f32(ptrdiff_t m, ptrdiff_t n, int cost, const float *restrict A, ptrdiff_t lda,
                const float *restrict Y, ptrdiff_t ldy, double *out);
int fm_cost_f64(ptrdiff_t m, ptrdiff_t n, int cost, const double *restrict A, ptrdiff_t lda,
                const double *restrict Y, ptrdiff_t ldy, double *out);

/* The most layers a network may have. */
#define FM_MAX_LAYERS 64

/* The element type of a network's arrays. */
typedef enum fm_dtype { FM_FLOAT32 = 0, FM_FLOAT64 = 1 } fm_dtype;

/*
 * A network, as the whole-network kernels see it: the one description of its layers,
 * filled once by the caller and passed by pointer.  Layer l (0-based) has sizes[l] inputs
 * and sizes[l + 1] neurons.  Every array is contiguous and holds elements of `dtype`; the
 * kernels of the other dtype refuse it (FM_ERR_DTYPE).
 *   W[l]    weights, (sizes[l + 1], sizes[l]): row j holds the weights into neuron j
 *   b[l]    biases, (sizes[l + 1])
 *   vW[l], vb[l]  momentum velocities shaped as W[l] and b[l], or all NULL (no momentum)
 * The inference kernels only read W and b.
 */
typedef struct fm_network {
    int dtype;                            /* an fm_dtype */
    ptrdiff_t n_layers;                   /* 1 .. FM_MAX_LAYERS */
    ptrdiff_t sizes[FM_MAX_LAYERS + 1];   /* inputs first: sizes[0 .. n_layers] */
    int output;                           /* the last layer's fm_activation (others: sigmoid) */
    void *W[FM_MAX_LAYERS], *b[FM_MAX_LAYERS];
    void *vW[FM_MAX_LAYERS], *vb[FM_MAX_LAYERS];
} fm_network;

/*
 * Samples as compressed rows (the CSR layout of SciPy and MKL): row r's nonzero entries
 * are data[indptr[r] .. indptr[r + 1]) at columns indices[indptr[r] .. indptr[r + 1]).
 * Columns need not be sorted; a column listed twice in a row counts as the sum of its
 * entries.  data holds elements of the network's dtype.
 */
typedef struct fm_csr {
    long long nnz;           /* entries in indices and data */
    const long long *indptr; /* rows + 1 offsets, non-decreasing, from 0 to <= nnz */
    const int *indices;      /* column of each entry, in [0, columns) */
    const void *data;        /* value of each entry */
} fm_csr;

/*
 * One epoch of training, or a run of its mini-batches: the data, the visiting order, the
 * rule.  Samples are visited in the order order[0], order[1], ... (or 0, 1, ... when order
 * is NULL) and cut into mini-batches of `batch` (the last may be shorter); a call trains
 * mini-batches first_batch .. first_batch + n_batches - 1 of that sequence, so an epoch may
 * be run in several calls (the caller regains control between them) with the same result
 * as in one, up to rounding.
 *   cost          an fm_cost valid for the network's output (quadratic with sigmoid or
 *                 identity, cross-entropy with sigmoid, log-likelihood with softmax)
 *   n, batch      samples (>= 1) and mini-batch size (>= 1)
 *   X, ldx        inputs, (n, sizes[0]), of the network's dtype; ignored (may be NULL)
 *                 when X_csr is given
 *   X_csr         the inputs as compressed rows (n rows, sizes[0] columns), or NULL.  The
 *                 first layer then skips the zero inputs exactly: the forward product and
 *                 the weight update touch only the weights of nonzero inputs (without
 *                 momentum; with momentum every weight moves every step).  The results
 *                 are those of the dense inputs up to rounding.
 *   Y, ldy        targets, (n, sizes[n_layers])
 *   order         n row indices, or NULL
 *   sample_scale  n per-sample gradient weights (of the dtype, >= 0, indexed by row), or
 *                 NULL for 1: a mini-batch's gradient is the mean over its samples of
 *                 sample_scale[row] times the sample's gradient
 *   lr, decay, momentum  as fm_sgd_update; decay is per step and applies to the weights only
 *   first_batch, n_batches  the mini-batches to run (n_batches <= 0: to the epoch's end)
 */
typedef struct fm_epoch {
    int cost;
    ptrdiff_t n, batch;
    const void *X;
    ptrdiff_t ldx;
    const fm_csr *X_csr;
    const void *Y;
    ptrdiff_t ldy;
    const long long *order;
    const void *sample_scale;
    double lr, decay, momentum;
    ptrdiff_t first_batch, n_batches;
} fm_epoch;

/* What fm_train_epoch reports about the mini-batches it ran. */
typedef struct fm_epoch_result {
    double cost_sum;            /* sum over samples of the cost, each mini-batch measured on
                                   its forward pass just before its update */
    long long correct;          /* samples predicted right on those forward passes */
    long long failed_batch;     /* the first mini-batch (numbered within the epoch) whose cost
                                   was not finite (training stopped before updating with it),
                                   or -1 */
} fm_epoch_result;

/*
 * Elements of workspace (of the network's dtype) that fm_train_epoch needs for mini-batches
 * of up to `batch` rows, with inputs as compressed rows (X_csr) when `compressed` is not 0
 * (room for the first layer's weights input-major, and with momentum, when the network has
 * velocities, for its velocities and gradient); 0 for an invalid network or an overflow.
 * Allocate it once per fit and reuse it for every call.
 */
size_t fm_train_workspace(const fm_network *net, ptrdiff_t batch, int compressed);

/*
 * Train the network on the mini-batches `epoch` names, in one call.
 *   net            the network; W, b (and vW, vb when epoch->momentum != 0) are updated in place
 *   epoch          the data and the rule, see fm_epoch
 *   work, work_len workspace of at least fm_train_workspace(net, epoch->batch) elements
 *   result         out: see fm_epoch_result
 * Every mini-batch runs forward, backward and the update in C, with the layer's error
 * products and the update fused into the matrix products' final pass.
 */
int fm_train_epoch_f32(const fm_network *net, const fm_epoch *epoch, float *work,
                       size_t work_len, fm_epoch_result *result);
int fm_train_epoch_f64(const fm_network *net, const fm_epoch *epoch, double *work,
                       size_t work_len, fm_epoch_result *result);

/*
 * Elements of workspace (of the network's dtype) that fm_network_forward needs for m rows
 * (blocks of hidden activations, and for a few rows a row of X compressed); 0 for an
 * invalid network or an overflow.
 */
size_t fm_forward_workspace(const fm_network *net, ptrdiff_t m);

/*
 * The whole network's forward pass (inference) in one call: out = the output layer's
 * activations for the m rows of X.  Rows go through every layer in blocks small enough
 * that a block's hidden activations stay in cache.
 *   net             the network (only read)
 *   m               rows (>= 0; 1 is one sample)
 *   X, ldx          inputs, (m, sizes[0]); every entry must be finite
 *   out, ldo        out: output activations, (m, sizes[n_layers])
 *   work, work_len  workspace of at least fm_forward_workspace() elements (may be NULL
 *                   when that is 0)
 *   bad             out: -1; or, with FM_ERR_NONFINITE, the position row * sizes[0] + column
 *                   of X's first NaN or infinity; or, with FM_ERR_OVERFLOW, the first row
 *                   whose outputs are not finite (finite inputs too large for the network).
 *                   After either error out's contents are unspecified.
 */
int fm_network_forward_f32(const fm_network *net, ptrdiff_t m, const float *X, ptrdiff_t ldx,
                           float *out, ptrdiff_t ldo, float *work, size_t work_len,
                           ptrdiff_t *bad);
int fm_network_forward_f64(const fm_network *net, ptrdiff_t m, const double *X, ptrdiff_t ldx,
                           double *out, ptrdiff_t ldo, double *work, size_t work_len,
                           ptrdiff_t *bad);

/*
 * fm_network_forward for inputs held as compressed rows: m rows of sizes[0] columns.
 * The first layer reads only the nonzero entries.  `bad` as in fm_network_forward, with
 * FM_ERR_NONFINITE giving the position in data of the first NaN or infinity.
 */
int fm_network_forward_csr_f32(const fm_network *net, ptrdiff_t m, const fm_csr *X,
                               float *out, ptrdiff_t ldo, float *work, size_t work_len,
                               ptrdiff_t *bad);
int fm_network_forward_csr_f64(const fm_network *net, ptrdiff_t m, const fm_csr *X,
                               double *out, ptrdiff_t ldo, double *work, size_t work_len,
                               ptrdiff_t *bad);

/*
 * Compress the rows of a dense matrix: indptr (m + 1 entries) receives the row offsets of
 * its nonzero entries; when indices and data are not NULL, they receive the columns and
 * values (indptr[m] entries each: call once without them to size them).
 *   m, n, X, ldx  the matrix, (m, n), n < 2^31
 */
int fm_compress_rows_f32(ptrdiff_t m, ptrdiff_t n, const float *X, ptrdiff_t ldx,
                         long long *indptr, int *indices, float *data);
int fm_compress_rows_f64(ptrdiff_t m, ptrdiff_t n, const double *X, ptrdiff_t ldx,
                         long long *indptr, int *indices, double *data);

#ifdef __cplusplus
}
#endif
#endif /* FASTMLP_H */
