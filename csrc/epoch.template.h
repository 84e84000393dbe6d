/*
 * A whole epoch of mini-batch SGD in one call: for each mini-batch, the forward pass,
 * the output error, backpropagation and the update, with no allocation and no Python.
 *
 * Per mini-batch of m rows, with A_0 the inputs and L layers:
 *   forward    A_l = act(A_{l-1} W_l^T + b_l)             bias + sigmoid fused in the product
 *   output     D_L = A_L - Y, times A_L (1 - A_L) for the quadratic cost on sigmoid outputs
 *   backward   D_{l-1} = (D_l W_l) * A_{l-1} (1 - A_{l-1})  derivative fused in the product,
 *                                                         taken before W_l changes
 *   update     W_l -= lr (D_l^T A_{l-1} / m + l2 W_l)      fused in the gradient's product:
 *                                                         no dW is ever stored
 *              b_l -= lr (column sums of D_l) / m          (with momentum: velocities)
 * Mini-batches of one sample take the fused path of online.template.h.
 */

int FM_I(fm_train_epoch)(ptrdiff_t L, const ptrdiff_t *sizes, int output, int cost,
                         ptrdiff_t n, ptrdiff_t batch, const REAL *X, ptrdiff_t ldx,
                         const REAL *Y, ptrdiff_t ldy, const long long *order,
                         REAL lr, REAL l2, REAL momentum,
                         REAL *const *W, REAL *const *b, REAL *const *vW, REAL *const *vb,
                         REAL *work, size_t work_len, fm_epoch_result *result)
{
    (void)work_len; /* checked by the public wrapper */
    FM_T(layout) lay = {0};
    FM_T(lay_out)(L, sizes, batch, work, &lay);
    const int apply_output_derivative = cost == FM_QUADRATIC && output == FM_SIGMOID;
    result->cost_sum = 0;
    result->correct = 0;
    result->failed_batch = -1;
    if (batch == 1)
        return FM_T(train_online)(L, sizes, output, cost, n, X, ldx, Y, ldy, order, lr, l2,
                                  momentum, W, b, vW, vb, &lay, result);

    for (ptrdiff_t start = 0, batch_no = 0; start < n; start += batch, batch_no++) {
        const ptrdiff_t m = n - start < batch ? n - start : batch;
        /* A few samples are read where they lie, through their addresses (x_rows); a
           larger batch visited in a given order is gathered into a matrix of its own
           (x) for the packed products. */
        const int few = m <= FM_FEW_ROWS;
        const REAL *x_rows[FM_FEW_ROWS];
        const REAL *x = X + start * ldx, *y = Y + start * ldy;
        ptrdiff_t lx = ldx, ly = ldy;
        if (few) {
            for (ptrdiff_t i = 0; i < m; i++) x_rows[i] = X + fm_row(order, start + i) * ldx;
        } else if (order) {
            FM_T(gather)(m, sizes[0], X, ldx, order, start, lay.x);
            x = lay.x, lx = sizes[0];
        }
        if (order) {
            FM_T(gather)(m, sizes[L], Y, ldy, order, start, lay.y);
            y = lay.y, ly = sizes[L];
        }
        /* forward */
        for (ptrdiff_t l = 1; l <= L; l++) {
            const int act = l == L ? output : FM_SIGMOID;
            if (l == 1 && few) {
                FM_T(forward_rows)(m, sizes[0], sizes[1], act, x_rows, W[0], sizes[0], b[0],
                                   lay.A[1], sizes[1]);
                continue;
            }
            int status = FM_T(forward)(m, sizes[l - 1], sizes[l], act, l > 1 ? lay.A[l - 1] : x,
                                       l > 1 ? sizes[l - 1] : lx, W[l - 1], sizes[l - 1],
                                       b[l - 1], lay.A[l], sizes[l]);
            if (status != FM_OK) return status;
        }
        if (!FM_T(record_batch)(m, sizes[L], cost, lay.A[L], y, ly, result)) {
            result->failed_batch = batch_no;
            return FM_OK;
        }
        FM_T(output_error)(m, sizes[L], apply_output_derivative, lay.A[L], y, ly, lay.D[L]);
        /* backward and update, last layer first */
        for (ptrdiff_t l = L; l >= 1; l--) {
            const REAL *a_prev = l > 1 ? lay.A[l - 1] : x;
            ptrdiff_t ld_prev = l > 1 ? sizes[l - 1] : lx;
            const REAL *prev_rows[FM_FEW_ROWS];
            if (few && l > 1) FM_T(row_addresses)(m, a_prev, ld_prev, prev_rows);
            int status = FM_OK;
            if (l > 1)
                status = FM_T(backprop_error)(m, sizes[l - 1], sizes[l], lay.D[l], W[l - 1],
                                              lay.A[l - 1], lay.D[l - 1]);
            if (status == FM_OK)
                status = FM_T(update_weights)(m, sizes[l - 1], sizes[l], lay.D[l],
                                              l > 1 ? prev_rows : x_rows, a_prev, ld_prev,
                                              W[l - 1], vW ? vW[l - 1] : NULL, lr, l2, momentum,
                                              lay.grad);
            if (status != FM_OK) return status;
            FM_T(column_sums)(m, sizes[l], lay.D[l], sizes[l], (REAL)1 / (REAL)m, lay.db);
            FM_T(sgd_step)(sizes[l], lr, 0, momentum, lay.db, b[l - 1], vb ? vb[l - 1] : NULL);
        }
    }
    return FM_OK;
}

