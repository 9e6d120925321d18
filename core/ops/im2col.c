/* im2col.c - unfolding for convolution, and its adjoint for transposed
 * convolution.  Both are plain index arithmetic; the GEMM does the work. */
#include <string.h>

#include "p2p-ops.h"

/* cols[(ci*k + ky)*k + kx][(oy - oy0)*out_w + ox] = in[ci, oy*s - p + ky, ox*s - p + kx]
 * (zero outside the image). */
void
p2p_im2col (const P2pTensor *in, const P2pConvParams *p, int out_w,
            int oy0, int oy1, float *cols)
{
  const int k = p->kernel, s = p->stride, pad = p->pad;
  const int rows = in->c * k * k;
  const gsize ncols = (gsize) (oy1 - oy0) * out_w;

#pragma omp parallel for schedule(static) if (ncols * rows > P2P_OPS_PARALLEL_MIN)
  for (int r = 0; r < rows; r++)
    {
      const int ci = r / (k * k);
      const int ky = (r / k) % k;
      const int kx = r % k;
      const float *src = in->data + (gsize) ci * in->h * in->w;
      float *dst = cols + (gsize) r * ncols;

      /* Output columns whose input x lies inside [0, w): ox in [x_lo, x_hi). */
      int x_lo = 0, x_hi = out_w;
      while (x_lo < out_w && x_lo * s - pad + kx < 0)
        x_lo++;
      while (x_hi > x_lo && (x_hi - 1) * s - pad + kx >= in->w)
        x_hi--;

      for (int oy = oy0; oy < oy1; oy++, dst += out_w)
        {
          const int iy = oy * s - pad + ky;
          if (iy < 0 || iy >= in->h)
            {
              memset (dst, 0, sizeof (float) * out_w);
              continue;
            }
          const float *row = src + (gsize) iy * in->w - pad + kx;
          for (int ox = 0; ox < x_lo; ox++)
            dst[ox] = 0.0f;
          if (s == 1)
            memcpy (dst + x_lo, row + x_lo, sizeof (float) * (x_hi - x_lo));
          else
            for (int ox = x_lo; ox < x_hi; ox++)
              dst[ox] = row[ox * s];
          for (int ox = x_hi; ox < out_w; ox++)
            dst[ox] = 0.0f;
        }
    }
}

/* out[co, iy*s - p + ky, ix*s - p + kx] += cols[r*row_step + j*col_step]
 * with r = (co*k + ky)*k + kx, j = (iy - iy0)*in_w + ix, for iy in
 * [iy0, iy1); targets outside out are dropped. */
void
p2p_col2im_add (const float *cols, gsize row_step, gsize col_step, int iy0, int iy1,
                int in_w, const P2pConvParams *p, P2pTensor *out)
{
  const int k = p->kernel, s = p->stride, pad = p->pad;
  const gsize ncols = (gsize) (iy1 - iy0) * in_w;

#pragma omp parallel for schedule(static) if (ncols * k * k * out->c > P2P_OPS_PARALLEL_MIN)
  for (int co = 0; co < out->c; co++)
    {
      float *dst_c = out->data + (gsize) co * out->h * out->w;
      for (int ky = 0; ky < k; ky++)
        for (int kx = 0; kx < k; kx++)
          {
            const float *src = cols + ((gsize) (co * k + ky) * k + kx) * row_step;
            int x_lo = 0, x_hi = in_w;
            while (x_lo < in_w && x_lo * s - pad + kx < 0)
              x_lo++;
            while (x_hi > x_lo && (x_hi - 1) * s - pad + kx >= out->w)
              x_hi--;
            for (int iy = iy0; iy < iy1; iy++, src += in_w * col_step)
              {
                const int oy = iy * s - pad + ky;
                if (oy < 0 || oy >= out->h)
                  continue;
                float *row = dst_c + (gsize) oy * out->w - pad + kx;
                if (col_step == 1)
                  for (int ix = x_lo; ix < x_hi; ix++)
                    row[ix * s] += src[ix];
                else
                  for (int ix = x_lo; ix < x_hi; ix++)
                    row[ix * s] += src[ix * col_step];
              }
          }
    }
}
