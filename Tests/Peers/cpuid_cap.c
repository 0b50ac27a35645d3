// cpuid_cap.c: an LD_PRELOAD shim that makes CPUID report an AVX2 + FMA CPU (no AVX-512,
// AVX-VNNI or AMX) to the libraries a process loads after it, so that the peers in
// peer_bench.py run the kernels they would pick on an AVX2-only machine such as AMD Zen 1.
// ONNX Runtime's MLAS, MKL, oneDNN and PyTorch's dispatch all choose their kernels from CPUID.
//
// How: Linux's CPUID faulting (arch_prctl ARCH_SET_CPUID, flag `cpuid_fault` in lscpu) makes
// each CPUID instruction raise SIGSEGV (si_code SI_KERNEL). The handler runs the real CPUID with
// faulting briefly off, clears the feature bits, and steps over the instruction. The setting is
// inherited by threads and forks and reset by execve, so the shim arms it again in each new
// program.
//
// Limits: glibc reads CPUID before any preloaded constructor, so its own string functions keep
// their AVX-512 versions (peer_bench.py sets GLIBC_TUNABLES for those); a SIGSEGV handler
// installed later (Python's faulthandler, a crash reporter) replaces this one, and a thread
// that runs CPUID with SIGSEGV blocked dies: both end the run, never silently.
//
// Built and preloaded by `peer_bench.py --cap-isa avx2` (cc -O2 -shared -fPIC). A worker proves
// the shim was active by calling cpuid_cap_trapped(): the CPUID instructions it has handled.
// /proc/cpuinfo and lscpu still show the kernel's view; MODELC_CPUID_CAP_VERBOSE=1 prints the
// count at exit.
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define ARCH_GET_CPUID_ 0x1011
#define ARCH_SET_CPUID_ 0x1012

static struct sigaction previous;
static unsigned long trapped;

static long set_cpuid(int enabled) { return syscall(SYS_arch_prctl, ARCH_SET_CPUID_, (unsigned long)enabled); }

// Leaf 7 subleaf 0: EBX AVX512F(16) DQ(17) IFMA(21) PF(26) ER(27) CD(28) BW(30) VL(31);
// ECX VBMI(1) VBMI2(6) VNNI(11) BITALG(12) VPOPCNTDQ(14); EDX 4VNNIW(2) 4FMAPS(3)
// VP2INTERSECT(8) AMX-BF16(22) FP16(23) AMX-TILE(24) AMX-INT8(25).
// Leaf 7 subleaf 1: EAX AVX-VNNI(4) AVX512_BF16(5).
static void mask(unsigned leaf, unsigned sub, unsigned *a, unsigned *b, unsigned *c, unsigned *d) {
    if (leaf == 7 && sub == 0) {
        *b &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31));
        *c &= ~((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));
        *d &= ~((1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 25));
    } else if (leaf == 7 && sub == 1) {
        *a &= ~((1u << 4) | (1u << 5));
    }
}

static void on_segv(int sig, siginfo_t *info, void *context) {
    ucontext_t *uc = context;
    greg_t *r = uc->uc_mcontext.gregs;
    // A CPUID fault comes as SI_KERNEL; anything else (a bad pointer, a bad jump) is a real fault,
    // handed on without reading the instruction, which may itself be unreadable.
    const unsigned char *ip = (const unsigned char *)r[REG_RIP];
    if (info->si_code != SI_KERNEL || ip[0] != 0x0f || ip[1] != 0xa2) {
        if (previous.sa_flags & SA_SIGINFO) { previous.sa_sigaction(sig, info, context); return; }
        if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) { previous.sa_handler(sig); return; }
        signal(SIGSEGV, SIG_DFL);  // returning re-runs the instruction, which now kills the process
        return;
    }
    int saved = errno;
    unsigned leaf = (unsigned)r[REG_RAX], sub = (unsigned)r[REG_RCX], a, b, c, d;
    if (set_cpuid(1) != 0) {  // cannot happen once armed; a CPUID here would fault forever
        static const char msg[] = "cpuid_cap: cannot turn CPUID faulting off in the handler\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(3);
    }
    __cpuid_count(leaf, sub, a, b, c, d);
    set_cpuid(0);
    mask(leaf, sub, &a, &b, &c, &d);
    r[REG_RAX] = a; r[REG_RBX] = b; r[REG_RCX] = c; r[REG_RDX] = d;
    r[REG_RIP] += 2;
    __atomic_fetch_add(&trapped, 1, __ATOMIC_RELAXED);
    errno = saved;
}

unsigned long cpuid_cap_trapped(void) { return __atomic_load_n(&trapped, __ATOMIC_RELAXED); }

static void report(void) {
    if (getenv("MODELC_CPUID_CAP_VERBOSE")) fprintf(stderr, "cpuid_cap: %lu CPUID instructions trapped\n", cpuid_cap_trapped());
}

__attribute__((constructor)) static void arm(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    // SA_NODEFER: a handler chained to for a real fault may itself run CPUID.
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &previous) != 0 || set_cpuid(0) != 0) {
        fprintf(stderr, "cpuid_cap: this kernel or CPU has no CPUID faulting (lscpu flag cpuid_fault); "
                        "cannot hide AVX-512\n");
        _exit(3);
    }
    atexit(report);
}
