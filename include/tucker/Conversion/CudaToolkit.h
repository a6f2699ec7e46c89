//===- CudaToolkit.h - Where the GPU pipeline finds the CUDA toolkit -*- C++
//-*-===//
//
// The GPU pipeline needs two things of a CUDA toolkit at compile time (none
// at build time): ptxas for cubin/fatbin output, and libdevice
// (nvvm/libdevice/libdevice.10.bc) for the math functions of elementwise
// kernels (rsqrt of a norm, cos/sin of a rope table), which upstream
// gpu-module-to-binary links only when it knows the toolkit directory
// ($CUDA_ROOT, $CUDA_HOME or $CUDA_PATH; Debian's MLIR has no built-in
// default). Without it, the PTX would call undefined __nv_* functions.
//
//===----------------------------------------------------------------------===//

#ifndef TUCKER_CONVERSION_CUDATOOLKIT_H
#define TUCKER_CONVERSION_CUDATOOLKIT_H

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <cstdlib>
#include <optional>
#include <string>

namespace mlir::tucker {

/// The environment variables upstream's NVVM serializer reads, in its order.
inline constexpr const char *kCudaToolkitVariables[] = {
    "CUDA_ROOT", "CUDA_HOME", "CUDA_PATH"};

/// Whether `dir` holds libdevice.
inline bool hasLibdevice(llvm::StringRef dir) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, "nvvm", "libdevice", "libdevice.10.bc");
  return llvm::sys::fs::exists(path);
}

/// The toolkit directory the serializer will use: the first of its
/// variables that is set; else the first directory with libdevice among
/// ptxas's parent on $PATH, /usr/local/cuda and /usr/lib/cuda.
inline std::optional<std::string> findCudaToolkit() {
  for (const char *var : kCudaToolkitVariables)
    if (const char *dir = std::getenv(var); dir && *dir)
      return std::string(dir);
  llvm::SmallVector<std::string, 3> candidates;
  if (llvm::ErrorOr<std::string> ptxas = llvm::sys::findProgramByName("ptxas"))
    candidates.push_back(
        llvm::sys::path::parent_path(llvm::sys::path::parent_path(*ptxas))
            .str());
  candidates.push_back("/usr/local/cuda");
  candidates.push_back("/usr/lib/cuda");
  for (const std::string &dir : candidates)
    if (hasLibdevice(dir))
      return dir;
  return std::nullopt;
}

/// Points upstream's serializer at the toolkit found (sets $CUDA_HOME when
/// none of its variables is set): the pipeline has no toolkit option.
inline void exportCudaToolkit() {
  for (const char *var : kCudaToolkitVariables)
    if (const char *dir = std::getenv(var); dir && *dir)
      return;
  if (std::optional<std::string> dir = findCudaToolkit())
    ::setenv("CUDA_HOME", dir->c_str(), /*overwrite=*/0);
}

/// Whether ptxas can be found: $CUDA_HOME/bin, /usr/local/cuda/bin, $PATH.
inline bool havePtxas() {
  llvm::SmallVector<std::string, 3> paths;
  if (const char *home = std::getenv("CUDA_HOME"))
    paths.push_back(std::string(home) + "/bin/ptxas");
  paths.push_back("/usr/local/cuda/bin/ptxas");
  for (const std::string &path : paths)
    if (llvm::sys::fs::can_execute(path))
      return true;
  return static_cast<bool>(llvm::sys::findProgramByName("ptxas"));
}

} // namespace mlir::tucker

#endif // TUCKER_CONVERSION_CUDATOOLKIT_H
