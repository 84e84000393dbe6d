/*
 * A whole epoch of mini-batch SGD in one call (or a run of its mini-batches): for each
 * mini-batch, the forward pass, the output error, backpropagation and the update, with no
 * allocation and no Python.
 *
 * Per mini-batch of m rows, with A_0 the inputs and L layers:
 *   forward    A_l = act(A_{l-1} W_l^T + b_l)             bias + sigmoid fused in the product
 *   output     D_L = A_L - Y, times A_L (1 - A_L) for the quadratic cost on sigmoid outputs,
 *              each row times its sample's scale when the epoch has one
 *   backward   D_{l-1} = (D_l W_l) * A_{l-1} (1 - A_{l-1})  derivative fused in the product,
 *                                                         taken before W_l changes
 *   update     W_l -= lr (D_l^T A_{l-1} / m + decay W_l)   fused in the gradient's product:
 *                                                         no dW is ever stored
 *              b_l -= lr (column sums of D_l) / m          (with momentum: velocities)
 * Mini-batches of one sample take the fused path of online.template.h; small mini-batches
 * worth more than one thread, the neuron-split path of split.template.h.  Inputs given as
 * compressed rows take the first layer's forward product and update through
 * sparse.template.h, which skips the zero inputs.
 */
#ifndef REAL
#error "a template: include it through instantiate.h (see csrc/README.md)"
#endif

/* One mini-batch of m rows starting at row `start` of the visiting order. */
static int FM_T(train_batch)(FM_T(run) *r, ptrdiff_t start, ptrdiff_t m,
                             fm_epoch_result *result, int *failed)
{
    const fm_epoch *ep = r->ep;
    const ptrdiff_t L = r->L, *sizes = r->sizes;
    const FM_T(layout) *lay = &r->lay;
    const REAL *const *W = (const REAL *const *)r->p.W;
    /* A few samples are read where they lie, through their addresses (x_rows); a larger
       batch visited in a given order is gathered into a matrix of its own (x) for the
       packed products.  Compressed rows are read where they lie, through the order. */
    const int few = m <= FM_FEW_ROWS;
    const REAL *x_rows[FM_FEW_ROWS];
    const REAL *x = r->csr ? NULL : r->X + start * ep->ldx, *y = r->Y + start * ep->ldy;
    ptrdiff_t lx = ep->ldx, ly = ep->ldy;
    if (r->csr) {
        /* nothing to gather */
    } else if (few) {
        for (ptrdiff_t i = 0; i < m; i++) x_rows[i] = r->X + fm_row(ep->order, start + i) * ep->ldx;
    } else if (ep->order) {
        FM_T(gather)(m, sizes[0], r->X, ep->ldx, ep->order, start, lay->x);
        x = lay->x, lx = sizes[0];
    }
    if (ep->order) {
        FM_T(gather)(m, sizes[L], r->Y, ep->ldy, ep->order, start, lay->y);
        y = lay->y, ly = sizes[L];
    }
    /* forward */
    for (ptrdiff_t l = 1; l <= L; l++) {
        const int act = l == L ? r->output : FM_SIGMOID;
        if (l == 1 && r->csr) {
            FM_T(csr_forward)(&r->first, r->csr, ep->order, start, m, 0, r->first.ld, r->p.b[0], act,
                              lay->A[1], sizes[1]);
            continue;
        }
        if (l == 1 && few) {
            FM_T(forward_rows)(m, sizes[0], sizes[1], act, x_rows, W[0], sizes[0], r->p.b[0],
                               lay->A[1], sizes[1]);
            continue;
        }
        int status = FM_T(forward)(m, sizes[l - 1], sizes[l], act, l > 1 ? lay->A[l - 1] : x,
                                   l > 1 ? sizes[l - 1] : lx, W[l - 1], sizes[l - 1],
                                   r->p.b[l - 1], lay->A[l], sizes[l]);
        if (status != FM_OK) return status;
    }
    if (!FM_T(record_batch)(m, sizes[L], ep->cost, lay->A[L], y, ly, result)) {
        *failed = 1;
        return FM_OK;
    }
    FM_T(output_error)(r, m, start, 0, sizes[L], lay->A[L], y, ly, lay->D[L]);
    /* backward and update, last layer first */
    for (ptrdiff_t l = L; l >= 1; l--) {
        const REAL *a_prev = l > 1 ? lay->A[l - 1] : x;
        ptrdiff_t ld_prev = l > 1 ? sizes[l - 1] : lx;
        const REAL *prev_rows[FM_FEW_ROWS];
        if (few && l > 1) FM_T(row_addresses)(m, a_prev, ld_prev, prev_rows);
        int status = FM_OK;
        if (l > 1)
            status = FM_T(backprop_error)(m, sizes[l - 1], sizes[l], lay->D[l], W[l - 1],
                                          lay->A[l - 1], lay->D[l - 1]);
        if (status == FM_OK && l == 1 && r->csr)
            FM_T(csr_update)(&r->first, r->csr, ep->order, start, m, 0, r->first.ld, lay->D[1], r->lr,
                             r->decay, r->mu);
        else if (status == FM_OK)
            status = FM_T(update_weights)(m, sizes[l - 1], sizes[l], lay->D[l],
                                          l > 1 ? prev_rows : x_rows, a_prev, ld_prev,
                                          r->p.W[l - 1], r->p.vW[l - 1], r->lr, r->decay, r->mu,
                                          lay->grad);
        if (status != FM_OK) return status;
        FM_T(column_sums)(m, sizes[l], lay->D[l], sizes[l], (REAL)1 / (REAL)m, lay->db);
        FM_T(sgd_step)(sizes[l], r->lr, 0, r->mu, lay->db, r->p.b[l - 1], r->p.vb[l - 1]);
    }
    return FM_OK;
}

int FM_I(fm_train_epoch)(const fm_network *net, const fm_epoch *ep, REAL *work,
                         fm_epoch_result *result)
{
    FM_T(run) r;
    FM_T(start_run)(net, ep, work, &r);
    result->cost_sum = 0;
    result->correct = 0;
    result->failed_batch = -1;
    int status = FM_OK;
    const int threads = FM_T(split_threads)(&r);
    if (threads > 1) {
        status = FM_T(train_split)(&r, threads, result);
    } else if (ep->batch == 1) {
        status = FM_T(train_online)(&r, result);
    } else {
        for (ptrdiff_t start = r.start, batch_no = ep->first_batch; start < r.end;
             start += ep->batch, batch_no++) {
            const ptrdiff_t m = r.end - start < ep->batch ? r.end - start : ep->batch;
            int failed = 0;
            status = FM_T(train_batch)(&r, start, m, result, &failed);
            if (status != FM_OK) break;
            if (failed) {
                result->failed_batch = batch_no;
                break;
            }
        }
    }
    FM_T(finish_run)(&r);
    return status;
}
