// The public header compiles as C++ and links nothing: every declaration is extern "C".
#include "vconv/vconv.h"

int main() {
    vc_status s = VC_OK;
    return s == VC_OK ? 0 : 1;
}
