# WebAssembly through emscripten (Debian's package), tests run with node.
# Used by tests/cross/cross-test.sh. Wraps emscripten's own toolchain file (found
# with em-config). NODERAWFS: the programs see the real file system (tests/data,
# temp dirs); exceptions on; memory grows as needed; exit codes reach the shell;
# ENVIRONMENT=node: node 18+ has fetch(), which emscripten 3.1 would use on a file path.
# No threads and no mmap: CMakeLists.txt picks the fallbacks for EMSCRIPTEN.
if(NOT TGV_WASM_TOOLCHAIN)
  execute_process(COMMAND em-config EMSCRIPTEN_ROOT OUTPUT_VARIABLE tgv_em_root OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(TGV_WASM_TOOLCHAIN ${tgv_em_root}/cmake/Modules/Platform/Emscripten.cmake)
endif()
include(${TGV_WASM_TOOLCHAIN})
set(CMAKE_CXX_FLAGS_INIT "-fexceptions")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-fexceptions -sNODERAWFS=1 -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=64MB -sTOTAL_STACK=8MB -sEXIT_RUNTIME=1 -sENVIRONMENT=node")
