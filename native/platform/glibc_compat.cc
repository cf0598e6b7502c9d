// SPDX-License-Identifier: MIT
// Keeps the Linux (glibc) addon loadable on glibc 2.28 (Debian 10, Ubuntu 20.04, RHEL 8) although it is
// built against a newer glibc. libstdc++ and libgcc are linked statically (cmake/link-portable.cmake), and
// their objects (and our float64 math) reference a few libc symbols at versions newer than 2.28: pthread_*
// moved into libc in 2.34 (new symbol versions), exp, log and pow got 2.29 versions,
// __libc_single_threaded (2.32), _dl_find_object (2.35) and arc4random (2.36) are new. The linker's
// --wrap=SYM turns every reference to SYM into __wrap_SYM; the functions below forward to the oldest
// version of SYM (present in every glibc since the architecture's first release) or re-implement it with
// interfaces every glibc has. .symver in our own objects is the
// only way to pick a version: it cannot be applied to objects inside libstdc++.a, hence --wrap.
// scripts/platforms/check-linkage.mjs fails when the built .node needs more than GLIBC_2.28.
#include <features.h>  // defines __GLIBC__
#if defined(__linux__) && defined(__GLIBC__)
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

#if defined(__x86_64__)
#define TVDCN_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define TVDCN_GLIBC_BASE "GLIBC_2.17"
#else
#error "glibc_compat.cc: add the base glibc symbol version of this architecture"
#endif

// Declares old_NAME bound to NAME@<base version>.
#define TVDCN_OLD(ret, name, params) \
  extern "C" ret old_##name params;   \
  __asm__(".symver old_" #name "," #name "@" TVDCN_GLIBC_BASE);

TVDCN_OLD(int, pthread_create, (pthread_t*, const pthread_attr_t*, void* (*)(void*), void*))
TVDCN_OLD(int, pthread_join, (pthread_t, void**))
TVDCN_OLD(int, pthread_detach, (pthread_t))
TVDCN_OLD(int, pthread_once, (pthread_once_t*, void (*)(void)))
TVDCN_OLD(int, pthread_key_create, (pthread_key_t*, void (*)(void*)))
TVDCN_OLD(int, pthread_key_delete, (pthread_key_t))
TVDCN_OLD(void*, pthread_getspecific, (pthread_key_t))
TVDCN_OLD(int, pthread_setspecific, (pthread_key_t, const void*))
TVDCN_OLD(int, pthread_mutex_trylock, (pthread_mutex_t*))
TVDCN_OLD(double, exp, (double))
TVDCN_OLD(double, log, (double))
TVDCN_OLD(double, pow, (double, double))

extern "C" {
int __wrap_pthread_create(pthread_t* t, const pthread_attr_t* a, void* (*f)(void*), void* arg) {
  return old_pthread_create(t, a, f, arg);
}
int __wrap_pthread_join(pthread_t t, void** r) { return old_pthread_join(t, r); }
int __wrap_pthread_detach(pthread_t t) { return old_pthread_detach(t); }
int __wrap_pthread_once(pthread_once_t* o, void (*f)(void)) { return old_pthread_once(o, f); }
int __wrap_pthread_key_create(pthread_key_t* k, void (*d)(void*)) { return old_pthread_key_create(k, d); }
// libstdc++ tests the address of this weak symbol to decide whether threads are in use: they are.
int __wrap___pthread_key_create(pthread_key_t* k, void (*d)(void*)) { return old_pthread_key_create(k, d); }
int __wrap_pthread_key_delete(pthread_key_t k) { return old_pthread_key_delete(k); }
void* __wrap_pthread_getspecific(pthread_key_t k) { return old_pthread_getspecific(k); }
int __wrap_pthread_setspecific(pthread_key_t k, const void* v) { return old_pthread_setspecific(k, v); }
int __wrap_pthread_mutex_trylock(pthread_mutex_t* m) { return old_pthread_mutex_trylock(m); }
double __wrap_exp(double x) { return old_exp(x); }
// log and pow: the float64 math of the tensor kernels (native/src/elementwise/cpu/elementwise.cc).
double __wrap_log(double x) { return old_log(x); }
double __wrap_pow(double x, double y) { return old_pow(x, y); }

// 0: "not known to be single-threaded", so libstdc++ always uses atomic reference counts (always correct).
char __wrap___libc_single_threaded = 0;

// arc4random family (std::random_device's default source) on the getrandom system call (Linux 3.17).
static void fill_random(void* buf, size_t n) {
  auto* p = static_cast<unsigned char*>(buf);
  while (n > 0) {
    long got = syscall(SYS_getrandom, p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      __builtin_trap();  // no entropy source at all: arc4random has no way to report failure either
    }
    p += got;
    n -= static_cast<size_t>(got);
  }
}
void __wrap_arc4random_buf(void* buf, size_t n) { fill_random(buf, n); }
uint32_t __wrap_arc4random(void) {
  uint32_t v;
  fill_random(&v, sizeof v);
  return v;
}
uint32_t __wrap_arc4random_uniform(uint32_t bound) {
  if (bound < 2) return 0;
  const uint32_t min = -bound % bound;  // rejection threshold that removes the modulo bias
  for (;;) {
    uint32_t r = __wrap_arc4random();
    if (r >= min) return r % bound;
  }
}

// _dl_find_object (glibc 2.35) as libgcc's unwinder uses it: the loaded object containing `pc`, its
// bounds and its PT_GNU_EH_FRAME. Built on dl_iterate_phdr, which every glibc has.
struct tvdcn_dl_find_object {  // layout of glibc's struct dl_find_object (dlfcn.h, 2.35)
  unsigned long long dlfo_flags;
  void* dlfo_map_start;
  void* dlfo_map_end;
  struct link_map* dlfo_link_map;
  void* dlfo_eh_frame;
  unsigned long long dlfo_reserved[7];
};
struct find_state {
  uintptr_t pc;
  tvdcn_dl_find_object* out;
  bool found;
};
static int find_callback(struct dl_phdr_info* info, size_t, void* data) {
  auto* st = static_cast<find_state*>(data);
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  bool inside = false;
  void* eh = nullptr;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD) {
      const uintptr_t start = info->dlpi_addr + ph.p_vaddr, end = start + ph.p_memsz;
      if (start < lo) lo = start;
      if (end > hi) hi = end;
      if (st->pc >= start && st->pc < end) inside = true;
    } else if (ph.p_type == PT_GNU_EH_FRAME) {
      eh = reinterpret_cast<void*>(info->dlpi_addr + ph.p_vaddr);
    }
  }
  if (!inside) return 0;
  st->out->dlfo_flags = 0;
  st->out->dlfo_map_start = reinterpret_cast<void*>(lo);
  st->out->dlfo_map_end = reinterpret_cast<void*>(hi);
  st->out->dlfo_link_map = nullptr;
  st->out->dlfo_eh_frame = eh;
  st->found = true;
  return 1;
}
int __wrap__dl_find_object(void* pc, tvdcn_dl_find_object* out) {
  find_state st{reinterpret_cast<uintptr_t>(pc), out, false};
  dl_iterate_phdr(find_callback, &st);
  return st.found ? 0 : -1;
}
}  // extern "C"
#endif
