# SPDX-License-Identifier: MIT
# How the addon links so that one binary loads on many systems (included by CMakeLists.txt after the target
# exists). Linux (glibc): libstdc++ and libgcc linked statically, and the few libc symbols that the static
# libstdc++/libgcc objects pull in at versions newer than our floor are routed through native/platform/
# glibc_compat.cc (see there). Windows (mingw-w64): everything static, so the DLL imports only KERNEL32,
# msvcrt and node.exe. The floor is checked by scripts/platforms/check-linkage.mjs.
# The CUDA variant keeps the default link (its static CUDA runtime needs GLIBC_2.34's dlopen anyway, and it
# cannot be tested on the machines that build the others): TVDCN_PORTABLE_LINK_CUDA=ON opts in.
option(TVDCN_PORTABLE_LINK "Link the C++ runtime statically and keep the glibc floor low" ON)
option(TVDCN_PORTABLE_LINK_CUDA "Also for the CUDA variant" OFF)
if(TVDCN_WITH_CUDA AND NOT TVDCN_PORTABLE_LINK_CUDA)
  set(TVDCN_PORTABLE_LINK OFF)
endif()
# Sanitizer builds intercept pthread_create & co. by name: the versioned calls below would bypass them.
if(TVDCN_SANITIZE)
  set(TVDCN_PORTABLE_LINK OFF)
endif()
if(TVDCN_PORTABLE_LINK AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    target_sources(${TVDCN_NAME} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/platform/glibc_compat.cc)
    set(TVDCN_GLIBC_WRAPPED
      pthread_create pthread_join pthread_detach pthread_once pthread_key_create __pthread_key_create
      pthread_key_delete pthread_getspecific pthread_setspecific pthread_mutex_trylock exp log pow
      arc4random arc4random_buf arc4random_uniform _dl_find_object __libc_single_threaded)
    list(TRANSFORM TVDCN_GLIBC_WRAPPED PREPEND "-Wl,--wrap=")
    target_link_options(${TVDCN_NAME} PRIVATE -static-libstdc++ -static-libgcc -s ${TVDCN_GLIBC_WRAPPED})
  elseif(CMAKE_SYSTEM_NAME STREQUAL "Windows")
    target_link_options(${TVDCN_NAME} PRIVATE -static -static-libstdc++ -static-libgcc -s)
  endif()
endif()
