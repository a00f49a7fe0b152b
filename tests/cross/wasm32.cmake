# WebAssembly through emscripten (Debian's package), tests run with node.
# Used by tests/cross/cross-test.sh. Wraps emscripten's own toolchain file (found
# with em-config). Link flags:
#   NODERAWFS              the programs see the real file system (tests/data, temp dirs)
#   WASM_ASYNC_COMPILATION=0  the .wasm beside the .js is read with fs.readFileSync and
#                          compiled synchronously. emscripten 3.1.6's asynchronous start-up
#                          calls fetch() on the .wasm's file path whenever `fetch` is a
#                          function, which it is in node 18+: "Failed to parse URL"
#                          (ERR_INVALID_URL), whatever ENVIRONMENT says. The synchronous
#                          path never looks at fetch. (SINGLE_FILE would also avoid it, at
#                          the price of a base64 copy of every binary inside its .js.)
#   ENVIRONMENT=node       no browser or worker start-up code
#   exceptions on, memory grows as needed, an 8 MB stack, exit codes reach the shell.
# No threads and no mmap: CMakeLists.txt picks the fallbacks for EMSCRIPTEN.
if(NOT TGV_WASM_TOOLCHAIN)
  execute_process(COMMAND em-config EMSCRIPTEN_ROOT OUTPUT_VARIABLE tgv_em_root OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(TGV_WASM_TOOLCHAIN ${tgv_em_root}/cmake/Modules/Platform/Emscripten.cmake)
endif()
include(${TGV_WASM_TOOLCHAIN})
set(CMAKE_CXX_FLAGS_INIT "-fexceptions")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-fexceptions -sNODERAWFS=1 -sWASM_ASYNC_COMPILATION=0 -sENVIRONMENT=node -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=64MB -sTOTAL_STACK=8MB -sEXIT_RUNTIME=1")
