# find_package(vconv) gives the target vconv::vconv: libvconv.so and <vconv/vconv.h>.
# (A static link takes pkg-config --static vconv, which lists the libraries it needs.)
include(${CMAKE_CURRENT_LIST_DIR}/vconvTargets.cmake)
