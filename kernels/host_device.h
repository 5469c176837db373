// OCTET_HOST_DEVICE marks a function compiled for both the host and the device: the CPU reference
// and the CUDA kernels then share one definition of the formula (kernels/activation.h,
// kernels/float_math.h, quantize/qscheme.h, ...).
#pragma once

#if defined(__CUDACC__)
#define OCTET_HOST_DEVICE __host__ __device__
#else
#define OCTET_HOST_DEVICE
#endif
