# `cmake --install`: headers under include/gradlens/ (the C API as gradlens/gradlens.h, the C++
# headers keeping their engine/ layers/ io/ attribution/ paths), libgradlens.a and
# libgradlens.so.MAJOR, the CLI, a CMake package (find_package(gradlens) → gradlens::gradlens,
# gradlens::shared) and gradlens.pc for pkg-config.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(FILES ${PROJECT_SOURCE_DIR}/tools/capi/gradlens/gradlens.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/gradlens)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/engine ${PROJECT_SOURCE_DIR}/layers ${PROJECT_SOURCE_DIR}/io
                  ${PROJECT_SOURCE_DIR}/attribution
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/gradlens FILES_MATCHING PATTERN "*.h")

set(GRADLENS_INSTALL_TARGETS gradlens gradlens_static gradlens_shared)
if(TARGET gradlens_cli)
  list(APPEND GRADLENS_INSTALL_TARGETS gradlens_cli)
endif()
install(TARGETS ${GRADLENS_INSTALL_TARGETS} EXPORT gradlensTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} ${CMAKE_INSTALL_INCLUDEDIR}/gradlens)

# The ImageNet class names of `gradlens compare --labels imagenet`, found from bin/ as ../share/gradlens.
if(TARGET gradlens_cli)
  install(FILES ${PROJECT_SOURCE_DIR}/tools/data/imagenet_classes.txt DESTINATION ${CMAKE_INSTALL_DATADIR}/gradlens)
endif()

set(GRADLENS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/gradlens)
install(EXPORT gradlensTargets NAMESPACE gradlens:: DESTINATION ${GRADLENS_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/gradlensConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/gradlensConfig.cmake INSTALL_DESTINATION ${GRADLENS_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/gradlensConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/gradlensConfig.cmake ${PROJECT_BINARY_DIR}/gradlensConfigVersion.cmake
        DESTINATION ${GRADLENS_CMAKE_DIR})

# gradlens.pc is relocatable: its prefix is found from its own place (${pcfiledir}), so
# `cmake --install build --prefix P` gives a working file for any P.
file(RELATIVE_PATH GRADLENS_PC_TO_PREFIX /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
string(REGEX REPLACE "/$" "" GRADLENS_PC_TO_PREFIX "${GRADLENS_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/gradlens.pc.in ${PROJECT_BINARY_DIR}/gradlens.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/gradlens.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# A -march=native build runs only on CPUs with the builder's instruction set: say so when it is
# installed (configure with an install prefix, or -DGRADLENS_NATIVE=OFF, for a portable one).
if(GRADLENS_NATIVE)
  install(CODE "message(WARNING \"gradlens: installing a -march=native build (GRADLENS_NATIVE=ON): it runs only on CPUs with this machine's instruction set. Reconfigure with -DGRADLENS_NATIVE=OFF for a portable package.\")")
endif()
