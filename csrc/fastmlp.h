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
 *     Kernels never allocate, print, abort or touch Python, and keep no global state.
 *     Outputs must not overlap inputs.
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
    FM_ERR_VALUE = -6       /* a scalar argument is out of range (negative rate, ...) */
} fm_status;

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
 *   plain (momentum == 0):  p -= lr * (g + l2 * p)
 *   with momentum:          v = momentum * v - lr * (g + l2 * p);  p += v
 *   n         number of elements (>= 0)
 *   lr        learning rate (>= 0)
 *   l2        weight-decay coefficient (>= 0; pass 0 for biases)
 *   momentum  in [0, 1)
 *   g         gradient, n elements
 *   p         in/out: the parameters
 *   v         in/out: the velocity, n elements; may be NULL when momentum == 0
 */
int fm_sgd_update_f32(ptrdiff_t n, float lr, float l2, float momentum,
                      const float *restrict g, float *restrict p, float *restrict v);
int fm_sgd_update_f64(ptrdiff_t n, double lr, double l2, double momentum,
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

#ifdef __cplusplus
}
#endif
#endif /* FASTMLP_H */
