# Install rules and the CMake package of tucker.
#
# `cmake --install <build> [--prefix P]` puts, under P (default /usr/local):
#
#   bin/tucker-opt, bin/tucker-compile          component tucker-tools
#   lib/libTuckerCudaRuntime.so                 component tucker-runtime
#       the runtime that tucker-compile --target=cuda links into its libraries
#       (found by tucker-compile in <bin>/../lib; the CPU libraries need only
#       MLIR's libmlir_c_runner_utils, which stays with MLIR 22)
#   lib/TuckerPlugin.so                         component tucker-plugin
#       for mlir-opt --load-dialect-plugin / --load-pass-plugin
#   lib/libTucker*.a                            one component per library
#       the dialect, pass, conversion and pipeline libraries; their install
#       rules are add_mlir_library's own
#   include/tucker/...  (*.h, *.td, generated *.h.inc)   component tucker-headers
#   lib/cmake/tucker/TuckerConfig.cmake, TuckerConfigVersion.cmake,
#   TuckerTargets.cmake                         component tucker-cmake
#       find_package(Tucker CONFIG) gives Tucker::TuckerIR, Tucker::TuckerTransforms,
#       Tucker::TuckerPipelines, ... (examples/out-of-tree uses it)
#
# The installed tools and plugin load libMLIR.so / libLLVM.so of the MLIR 22
# they were built against (their run path names its lib directory).
#
# With TUCKER_PREBUILT_DIR set (CMakeLists.txt returns right after including
# this file), nothing is built: the tools, the runtime and the plugin of that
# existing build directory are installed as they are, under the same
# components. pip install uses this when TUCKER_BUILD_DIR is set; a wheel
# holds the components tucker-tools, tucker-runtime and tucker-plugin
# (pyproject.toml).

set(TUCKER_INSTALL_BINDIR bin)
set(TUCKER_INSTALL_LIBDIR "lib${LLVM_LIBDIR_SUFFIX}")
set(TUCKER_INSTALL_INCLUDEDIR include)
set(TUCKER_INSTALL_CMAKEDIR "${TUCKER_INSTALL_LIBDIR}/cmake/tucker")

if(TUCKER_PREBUILT_DIR)
  get_filename_component(_tucker_prebuilt "${TUCKER_PREBUILT_DIR}" ABSOLUTE)
  set(_tucker_tools "${_tucker_prebuilt}/bin/tucker-opt"
    "${_tucker_prebuilt}/bin/tucker-compile")
  set(_tucker_runtime "${_tucker_prebuilt}/lib/Runtime/libTuckerCudaRuntime.so")
  set(_tucker_plugin "${_tucker_prebuilt}/lib/TuckerPlugin.so")
  foreach(_file IN LISTS _tucker_tools _tucker_runtime _tucker_plugin)
    if(NOT EXISTS "${_file}")
      message(FATAL_ERROR "TUCKER_PREBUILT_DIR=${TUCKER_PREBUILT_DIR}: ${_file} "
        "is missing. Build it first (ninja -C ${TUCKER_PREBUILT_DIR}) or leave "
        "TUCKER_PREBUILT_DIR (TUCKER_BUILD_DIR for pip) unset to build here.")
    endif()
  endforeach()
  message(STATUS "Installing the existing build in ${_tucker_prebuilt}")
  install(PROGRAMS ${_tucker_tools} DESTINATION ${TUCKER_INSTALL_BINDIR} COMPONENT tucker-tools)
  install(FILES ${_tucker_runtime} DESTINATION ${TUCKER_INSTALL_LIBDIR}
    PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                WORLD_READ WORLD_EXECUTE
    COMPONENT tucker-runtime)
  install(FILES ${_tucker_plugin} DESTINATION ${TUCKER_INSTALL_LIBDIR}
    PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                WORLD_READ WORLD_EXECUTE
    COMPONENT tucker-plugin)
  return()
endif()

# The libraries add_mlir_library declared; it installs each of them and puts
# it into the export set MLIRTargets, which this package installs as
# TuckerTargets.cmake.
get_property(TUCKER_EXPORTED_LIBRARIES GLOBAL PROPERTY MLIR_EXPORTS)
get_property(_tucker_has_exports GLOBAL PROPERTY MLIR_HAS_EXPORTS)
if(NOT TUCKER_EXPORTED_LIBRARIES OR NOT _tucker_has_exports)
  message(FATAL_ERROR "add_mlir_library exported no tucker library (is "
    "LLVM_DISTRIBUTION_COMPONENTS set?); the CMake package needs them.")
endif()
foreach(_lib IN LISTS TUCKER_EXPORTED_LIBRARIES)
  # The build uses the directory's include paths; an installed library
  # carries its own. MLIR's and LLVM's are added by TuckerConfig.cmake from
  # the MLIR it finds.
  target_include_directories(${_lib} INTERFACE
    $<INSTALL_INTERFACE:include>)
  target_compile_features(${_lib} INTERFACE cxx_std_17)
endforeach()

# LLVM's helpers give the tools and the plugin the install run path
# $ORIGIN/../lib only, as if installed with LLVM itself; they load
# libMLIR.so / libLLVM.so from the MLIR 22 they were built against. With
# that directory added, the install run path is the build one, and the
# binaries are linked with it (nothing to rewrite at install, and a build
# directory can be packaged as it is: TUCKER_PREBUILT_DIR).
foreach(_target tucker-opt tucker-compile TuckerPlugin)
  set_property(TARGET ${_target} APPEND PROPERTY INSTALL_RPATH "${LLVM_LIBRARY_DIR}")
  set_property(TARGET ${_target} PROPERTY BUILD_WITH_INSTALL_RPATH ON)
endforeach()

install(TARGETS tucker-opt tucker-compile EXPORT MLIRTargets
  RUNTIME DESTINATION ${TUCKER_INSTALL_BINDIR} COMPONENT tucker-tools)

install(TARGETS TuckerCudaRuntime EXPORT MLIRTargets
  LIBRARY DESTINATION ${TUCKER_INSTALL_LIBDIR} COMPONENT tucker-runtime)
target_include_directories(TuckerCudaRuntime INTERFACE
  $<INSTALL_INTERFACE:include>)

# A module loaded with dlopen: installed, not exported (nothing links it).
install(TARGETS TuckerPlugin
  LIBRARY DESTINATION ${TUCKER_INSTALL_LIBDIR} COMPONENT tucker-plugin)

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/tucker"
  DESTINATION ${TUCKER_INSTALL_INCLUDEDIR} COMPONENT tucker-headers
  FILES_MATCHING PATTERN "*.h" PATTERN "*.td")
install(DIRECTORY "${PROJECT_BINARY_DIR}/include/tucker"
  DESTINATION ${TUCKER_INSTALL_INCLUDEDIR} COMPONENT tucker-headers
  FILES_MATCHING PATTERN "*.h.inc"
  PATTERN "CMakeFiles" EXCLUDE)

install(EXPORT MLIRTargets
  NAMESPACE Tucker::
  FILE TuckerTargets.cmake
  DESTINATION ${TUCKER_INSTALL_CMAKEDIR}
  COMPONENT tucker-cmake)

# Where TuckerConfig.cmake looks for MLIR: the one of this build, then Debian's.
set(TUCKER_MLIR_HINTS "${MLIR_DIR}"
  "/usr/lib/llvm-${LLVM_VERSION_MAJOR}/lib/cmake/mlir")
list(REMOVE_DUPLICATES TUCKER_MLIR_HINTS)
string(REPLACE ";" "\" \"" TUCKER_MLIR_HINTS "\"${TUCKER_MLIR_HINTS}\"")

include(CMakePackageConfigHelpers)
set(_tucker_config_dir "${PROJECT_BINARY_DIR}/lib/cmake/tucker")
configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/TuckerConfig.cmake.in"
  "${_tucker_config_dir}/TuckerConfig.cmake"
  INSTALL_DESTINATION ${TUCKER_INSTALL_CMAKEDIR}
  PATH_VARS TUCKER_INSTALL_BINDIR TUCKER_INSTALL_LIBDIR TUCKER_INSTALL_INCLUDEDIR)
# The static libraries are built against one MLIR: the same minor version of
# tucker is what a consumer may mix with them.
write_basic_package_version_file(
  "${_tucker_config_dir}/TuckerConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${_tucker_config_dir}/TuckerConfig.cmake"
  "${_tucker_config_dir}/TuckerConfigVersion.cmake"
  DESTINATION ${TUCKER_INSTALL_CMAKEDIR}
  COMPONENT tucker-cmake)
