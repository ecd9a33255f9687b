// The raw layer kernels of nn/: forward and backward functions over flat
// buffers (llm.c style), templated on the scalar (float for training and
// inference, double for the gradient checks). The tape (tape.hpp) and the
// inference engine (inference.hpp) call these.
//
// Memory layout everywhere: NHWC, row-major, last index fastest.
//   activations  x[n][h][w][c]
//   conv kernels w[k][k][c][o]   (Keras' [kh, kw, in, out])
//   affine       w[i][o]         (Keras' dense [in, out])
//   biases       b[o]
// A flatten of x[n][h][w][c] to x[n][h*w*c] is a reshape (the (y, x, channel)
// order of Keras, channel fastest), so it costs nothing.
//
// Backward functions ACCUMULATE (+=) into the gradient buffers they are given
// (conv/affine: dx is overwritten instead when accumulate_dx is false); a null
// gradient pointer means "not wanted" and is skipped.
#pragma once
#include <cstdint>

namespace ds::nn {

// Output size of a 'valid' convolution: (in - k) / stride + 1.
inline long conv_out(long in, long k, long stride) { return (in - k) / stride + 1; }

// im2col for a 'valid' convolution.
// x[n][h][w][c] -> cols[n*ho*wo][k*k*c], patch element order (ky, kx, c).
template <class T>
void im2col(const T* x, long n, long h, long w, long c, long k, long stride, T* cols);
// The adjoint of im2col: dx[n][h][w][c] += scatter of dcols[n*ho*wo][k*k*c].
template <class T>
void col2im_add(const T* dcols, long n, long h, long w, long c, long k, long stride, T* dx);

// Convolution, 'valid', square kernel k, stride s.
// x[n][h][w][c], wt[k][k][c][o], b[o] -> y[n][ho][wo][o], ho = conv_out(h,k,s).
// cols: scratch [n*ho*wo][k*k*c] that forward fills and backward reads; when
// k == 1 and s == 1 the input itself is the column matrix and cols may be null.
template <class T>
void conv2d_forward(const T* x, long n, long h, long w, long c, const T* wt, const T* b, long k, long s, long o,
                    T* cols, T* y);
// dy[n][ho][wo][o] -> dx (+=, [n][h][w][c]), dwt (+=, [k][k][c][o]), db (+=, [o]).
// dcols: scratch [n*ho*wo][k*k*c] (unused when k == 1 and s == 1 or dx is null).
template <class T>
void conv2d_backward(const T* x, const T* cols, long n, long h, long w, long c, const T* wt, long k, long s, long o,
                     const T* dy, T* dx, T* dwt, T* db, T* dcols, bool accumulate_dx = true);

// Affine (dense): x[n][i], wt[i][o], b[o] -> y[n][o] = x wt + b.
template <class T>
void affine_forward(const T* x, long n, long i, const T* wt, const T* b, long o, T* y);
// dy[n][o] -> dx (+=, [n][i]), dwt (+=, [i][o]), db (+=, [o]).
template <class T>
void affine_backward(const T* x, long n, long i, const T* wt, long o, const T* dy, T* dx, T* dwt, T* db,
                     bool accumulate_dx = true);

// Element-wise over m values.
template <class T>
void relu_forward(const T* x, long m, T* y);
template <class T>
void relu_backward(const T* y, long m, const T* dy, T* dx);  // uses the output y (y > 0 <=> x > 0)
template <class T>
void tanh_forward(const T* x, long m, T* y);
template <class T>
void tanh_backward(const T* y, long m, const T* dy, T* dx);  // dx += dy (1 - y^2)
// Dropout with inverted scaling: y = x * mask, mask in {0, 1/(1-rate)} given.
// dropout_mask fills mask[n][per]: row r draws from the stream (seed, purpose,
// first_item + r); a value is 0 when its 32-bit draw u < rate 2^32 (probability
// rate, to 2^-32), else 1/(1-rate).
void dropout_mask(double rate, std::uint64_t seed, std::uint64_t purpose, std::uint64_t first_item, long n, long per,
                  float* mask);
template <class T>
void mask_forward(const T* x, const float* mask, long m, T* y);
template <class T>
void mask_backward(const float* mask, long m, const T* dy, T* dx);

// Mean squared error over all n*m values (Keras 'mse' for a batch):
// L = sum (p - t)^2 / (n m). Returns L; backward: dp += dL * 2 (p - t) / (n m).
template <class T>
double mse_forward(const T* p, const T* t, long count);
template <class T>
void mse_backward(const T* p, const T* t, long count, double dL, T* dp);

// Gaussian negative log-likelihood per component, averaged over n*m values.
// out[n][2m]: the first m columns are means mu, the next m are log-variances s;
// t[n][m]. L = mean of 0.5 (s + (t - mu)^2 exp(-s) + log(2 pi)).
template <class T>
double gaussian_nll_forward(const T* out, const T* t, long n, long m);
template <class T>
void gaussian_nll_backward(const T* out, const T* t, long n, long m, double dL, T* dout);

}  // namespace ds::nn
