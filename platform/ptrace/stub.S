// The ptrace platform's stub: the only code of its own a stub process has.
// The Sentry execs it traced (PTRACE_TRACEME), then drives it entirely by
// setting registers: guest code runs under PTRACE_SYSEMU, and the mmap,
// munmap and mprotect calls that shape the guest's address space are
// injected by pointing rip at `stub_syscall` below. The int3 after it hands
// control back to the Sentry with the result in rax.
//
// `stub_clone` makes a new stub thread for a new guest thread: the Sentry
// injects clone(2) there; the caller traps back like stub_syscall, and the
// new thread, untraced, sleeps in pause(2) until the host thread that will
// run the guest thread seizes it (PTRACE_SEIZE, then PTRACE_INTERRUPT).
//
// It is linked at a fixed address at the top of the user address space
// (see BUILD.bazel and kStubBase in ptrace_platform.cc); the guest's range
// ends below it.
        .text
        .globl _start
_start:
        // Reached only if the stub is run outside the Sentry: exit(1).
        mov $60, %eax
        mov $1, %edi
        syscall
        .globl stub_syscall
stub_syscall:
        syscall
        int3
        jmp stub_syscall
        .globl stub_clone
stub_clone:
        syscall
        test %rax, %rax
        jz 1f
        int3
1:
        mov $34, %eax  // pause
        syscall
        jmp 1b
