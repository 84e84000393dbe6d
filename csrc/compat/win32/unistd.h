/* unistd.h for Windows (internal): see pthread.h beside it. */
#include "pthread.h"
