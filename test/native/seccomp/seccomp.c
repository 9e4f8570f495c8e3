/*
 * Test-only N-API addon for test/seccomp.test.ts: installs a seccomp-bpf allowlist on every
 * thread of the calling Node process. Linux x86-64 only. Never shipped with the package.
 *
 *   const seccomp = require(addonPath);  // the test caches it as build/seccomp-<hash>.node
 *   seccomp.enter('kill');  // a syscall outside the allowlist kills the process with SIGSYS
 *   seccomp.enter('trap');  // ... raises SIGSYS; the handler below names the syscall and its
 *                           //     callers on fd 2 and exits with TRAP_EXIT_CODE (diagnosis)
 *   seccomp.allowed();      // the allowlisted syscall numbers
 *
 * There is no way back: the filter lasts until the process ends. Call it after sandtls init(),
 * after making stdout and stderr ready, and with MALLOC_ARENA_MAX=1 in the environment (see
 * shared/DESIGN.md, "What a seccomp filter catches in a Node process").
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <node_api.h>

#if !defined(__x86_64__)
#error "the seccomp test addon supports Linux x86-64 only"
#endif

/* Exit code of a process whose filter trapped (mode 'trap'; TRAP_EXIT_CODE in the test); not
 * 159, which shells print for a process killed by SIGSYS (128 + 31). */
#define TRAP_EXIT_CODE 97

/*
 * The allowlist. Everything a Node 20 process (V8, its GC and compiler threads, libuv, glibc)
 * does at rest while JavaScript runs a sans-IO TLS workload and writes its report to a pipe,
 * and nothing that reaches the file system, the network or another process.
 */
static const int kAllowed[] = {
  /* I/O on descriptors that are already open: the report on stdout, diagnostics on stderr,
   * libuv's eventfds and signal pipe. Neither can name a path or make a descriptor. */
  __NR_read, __NR_write,
  /* memory: the V8 heap, JIT code pages (mprotect), GC (madvise, munmap), malloc (brk, mmap) */
  __NR_mmap, __NR_munmap, __NR_mprotect, __NR_madvise, __NR_brk,
  /* threads: V8's platform workers and libuv's pool sleep and wake on futexes. sched_yield
   * tripped about one run in four without it (measured, backtrace from the trap handler):
   * at exit Node's delayed-task scheduler thread closes its uv_async handle, and libuv's
   * uv_close spins with sched_yield while another thread is still inside uv_async_send.
   * getpid: asked hundreds of times in a run by Node and V8 (measured); it reveals nothing. */
  __NR_futex, __NR_sched_yield, __NR_getpid,
  /* libuv's event loops: waiting, and registering descriptors that are already open. Tripped
   * without epoll_ctl (measured with strace): at exit Node's teardown runs a libuv loop whose
   * watcher on its own signal pipe (made at startup) is added to that loop's epoll set only then.
   * epoll_ctl cannot create a descriptor; epoll_create is not allowed. */
  __NR_epoll_wait, __NR_epoll_pwait, __NR_epoll_ctl,
  /* signals: Node's and libuv's handlers, and the return from them */
  __NR_rt_sigaction, __NR_rt_sigprocmask, __NR_rt_sigreturn,
  /* the entropy and the clock sandtls is given: crypto.getRandomValues draws from OpenSSL's
   * DRBG, which reseeds with getrandom (not seen in a short run); Date.now and performance.now
   * read the clock through the vDSO and rarely reach the kernel */
  __NR_getrandom, __NR_clock_gettime,
  /* a clean exit: Node's teardown checks stdio (fstat, fcntl) and closes libuv's descriptors
   * (measured, DESIGN.md) before exit_group; exit ends each V8 platform worker thread */
  __NR_fstat, __NR_fcntl, __NR_close,
  __NR_exit, __NR_exit_group,
};

#define ALLOWED_COUNT (sizeof(kAllowed) / sizeof(kAllowed[0]))

/* The ABI bit of the x32 syscall numbers: those share AUDIT_ARCH_X86_64 and must not pass. */
#define X32_SYSCALL_BIT 0x40000000u

static void write_all(int fd, const char *text, size_t length) {
  while (length > 0) {
    long n = syscall(SYS_write, fd, text, length);
    if (n <= 0) return;
    text += n;
    length -= (size_t)n;
  }
}

static void write_text(const char *text) { write_all(2, text, strlen(text)); }

static void write_number(unsigned long value, unsigned base) {
  char digits[24];
  int count = 0;
  do {
    digits[count++] = "0123456789abcdef"[value % base];
    value /= base;
  } while (value != 0 && count < (int)sizeof(digits));
  char text[24];
  int length = 0;
  while (count > 0) text[length++] = digits[--count];
  write_all(2, text, (size_t)length);
}

/*
 * SIGSYS handler of mode 'trap': names the blocked syscall and its callers on fd 2, then exits.
 * Formats by hand with no malloc (the trap may come from inside malloc, holding its lock) and
 * makes no syscall but write and exit_group. backtrace() was called once before the filter went
 * in (its first call loads libgcc_s); dladdr only reads the loader's tables.
 */
static void on_sigsys(int sig, siginfo_t *info, void *context) {
  (void)sig;
  (void)context;
  write_text("sandtls-seccomp: blocked syscall ");
  write_number((unsigned)info->si_syscall, 10);
  write_text("\n");
  void *frames[32];
  int depth = backtrace(frames, 32);
  for (int i = 1; i < depth; i++) { /* frame 0 is this handler */
    Dl_info where;
    write_text("  at ");
    if (dladdr(frames[i], &where) != 0 && where.dli_fname != NULL) {
      write_text(where.dli_fname);
      write_text("(");
      if (where.dli_sname != NULL) write_text(where.dli_sname);
      write_text("+0x");
      unsigned long base = (unsigned long)(where.dli_sname != NULL ? where.dli_saddr : where.dli_fbase);
      write_number((unsigned long)frames[i] - base, 16);
      write_text(")");
    } else {
      write_text("0x");
      write_number((unsigned long)frames[i], 16);
    }
    write_text("\n");
  }
  syscall(SYS_exit_group, TRAP_EXIT_CODE);
}

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static napi_value throw_errno(napi_env env, const char *what) {
  char message[160];
  size_t length = strlen(what);
  if (length > 100) length = 100;
  memcpy(message, what, length);
  message[length] = '\0';
  strcat(message, ": ");
  strncat(message, strerror(errno), sizeof(message) - strlen(message) - 1);
  return throw_error(env, message);
}

/* enter(mode: 'kill' | 'trap'): installs the filter on all threads; throws if it cannot. */
static napi_value enter(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL) != napi_ok || argc != 1) {
    return throw_error(env, "enter(mode): mode is 'kill' or 'trap'");
  }
  char mode[8];
  size_t mode_length = 0;
  if (napi_get_value_string_utf8(env, argv[0], mode, sizeof(mode), &mode_length) != napi_ok) {
    return throw_error(env, "enter(mode): mode is 'kill' or 'trap'");
  }
  unsigned default_action;
  if (strcmp(mode, "kill") == 0) {
    default_action = SECCOMP_RET_KILL_PROCESS;
  } else if (strcmp(mode, "trap") == 0) {
    default_action = SECCOMP_RET_TRAP;
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_sigaction = on_sigsys;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    void *warm[2];
    backtrace(warm, 2);
    if (sigaction(SIGSYS, &action, NULL) != 0) return throw_errno(env, "sigaction(SIGSYS)");
  } else {
    return throw_error(env, "enter(mode): mode is 'kill' or 'trap'");
  }

  /* arch check, x32 check, then one JEQ/RET ALLOW pair per allowed syscall, then the default */
  struct sock_filter program[5 + 2 * ALLOWED_COUNT + 1];
  size_t n = 0;
  program[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  program[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
  program[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  program[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  program[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 2 * ALLOWED_COUNT, 0);
  for (size_t i = 0; i < ALLOWED_COUNT; i++) {
    program[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)kAllowed[i], 0, 1);
    program[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  }
  program[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, default_action);
  struct sock_fprog fprog = {.len = (unsigned short)n, .filter = program};

  /* Required to install a filter without CAP_SYS_ADMIN; also what a real sandbox does. */
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return throw_errno(env, "prctl(PR_SET_NO_NEW_PRIVS)");
  /* TSYNC: every existing thread (V8 workers, libuv pool) gets the filter too, or nothing
   * happens: a positive return is the id of a thread that could not be synchronised. */
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog);
  if (rc < 0) return throw_errno(env, "seccomp(SECCOMP_SET_MODE_FILTER, TSYNC)");
  if (rc > 0) return throw_error(env, "seccomp: TSYNC failed, a thread could not be synchronised");
  return NULL;
}

/* allowed(): the allowlisted syscall numbers, for the test's report. */
static napi_value allowed(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  napi_value list;
  if (napi_create_array_with_length(env, ALLOWED_COUNT, &list) != napi_ok) return NULL;
  for (size_t i = 0; i < ALLOWED_COUNT; i++) {
    napi_value number;
    if (napi_create_int32(env, kAllowed[i], &number) != napi_ok) return NULL;
    if (napi_set_element(env, list, (uint32_t)i, number) != napi_ok) return NULL;
  }
  return list;
}

static napi_value init_module(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    {"enter", NULL, enter, NULL, NULL, NULL, napi_default, NULL},
    {"allowed", NULL, allowed, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 2, properties) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
