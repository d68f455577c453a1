# What `cmake --install` (and the top-level `make install`) puts under the
# prefix:
#   include/devexcl/*.hpp, include/devexcl/uapi/devexcl.h
#   LIBDIR/libdevexcl.a, LIBDIR/libdevexcl.so.* (unless DEVEXCL_STATIC)
#   LIBDIR/pkgconfig/devexcl.pc, LIBDIR/cmake/devexcl/ (find_package(devexcl))
#   bin/devexcl, share/man/man1/devexcl.1
include(CMakePackageConfigHelpers)

set(DEVEXCL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/devexcl)

install(TARGETS ${DEVEXCL_LIBRARIES} EXPORT devexclTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/devexcl
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/include/devexcl/uapi/devexcl.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/devexcl/uapi)
install(TARGETS devexcl_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/devexcl.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

install(EXPORT devexclTargets NAMESPACE devexcl:: DESTINATION ${DEVEXCL_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/devexclConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/devexclConfig.cmake INSTALL_DESTINATION ${DEVEXCL_CMAKE_DIR})
# A minor release only adds: any 1.y serves a caller that asked for 1.x, x <= y.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/devexclConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/devexclConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/devexclConfigVersion.cmake DESTINATION ${DEVEXCL_CMAKE_DIR})

# pkg-config, relocatable: the prefix is found from the .pc file's own
# place, so a tree installed with --prefix or DESTDIR, or moved, still works.
file(RELATIVE_PATH DEVEXCL_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig
     ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" DEVEXCL_PC_TO_PREFIX "${DEVEXCL_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/devexcl.pc.in ${CMAKE_CURRENT_BINARY_DIR}/devexcl.pc
  @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/devexcl.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
