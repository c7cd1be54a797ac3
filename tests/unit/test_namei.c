#include "tests/tap.h"
