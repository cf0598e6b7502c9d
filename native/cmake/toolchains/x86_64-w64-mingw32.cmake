# SPDX-License-Identifier: MIT
# Cross-compiling the Windows x64 addon with mingw-w64 (posix thread model: std::mutex/std::thread need it):
# apt-get install g++-mingw-w64-x86-64-posix. The import library of node.exe's Node-API functions is made
# from node-api-headers' def file (scripts/platforms/build-cross.mjs passes it as TVDCN_NODE_IMPORT_LIB).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
