#ifndef CKERNELS_H
#define CKERNELS_H
/* Placeholder header; the GEMM kernels land here. */
int ck_version(void);
#endif
