// The ptrace platform's stub: the only code of its own a stub process has.
// The Sentry execs it traced (PTRACE_TRACEME), then drives it entirely by
// setting registers: guest code runs under PTRACE_SYSEMU, and the mmap,
// munmap and mprotect calls that shape the guest's address space are
// injected by pointing rip at `stub_syscall` below. The int3 after it hands
// control back to the Sentry with the result in rax.
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
