#include "CKernels.h"
int ck_version(void) { return 1; }
