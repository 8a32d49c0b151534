"""guest_program(): one C source built three ways as static guest programs.

The guests are compiled by genrules that call the system compilers
directly rather than by cc_binary, so that the Bazel C++ toolchain flags
(--copt, --config=asan, -std=c++20, ...) never reach them: they must be
plain static executables that run both natively and under the Sentry.
"""

_CFLAGS = "-O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -fno-strict-aliasing"

# Flavours: (target suffix, compiler, link mode flags).
_FLAVOURS = [
    ("glibc", "/usr/bin/gcc", "-static"),
    ("musl", "/usr/bin/musl-gcc", "-static"),
    ("glibc_pie", "/usr/bin/gcc", "-static-pie -fPIE"),
]

def _guest_genrule(name, src, hdrs, suffix, compiler, mode_flags, visibility):
    native.genrule(
        name = name + "_" + suffix,
        srcs = [src] + hdrs,
        # The output lives in a per-flavour directory so that the file name
        # (and thus argv[0]'s basename) is the program's name.
        outs = [suffix + "/" + name],
        cmd = "%s %s %s -o $@ $(location %s)" % (compiler, mode_flags, _CFLAGS, src),
        executable = True,
        message = "Compiling guest %s (%s)" % (name, suffix),
        visibility = visibility,
    )

def guest_program(name, src, hdrs = ["guest.h"], visibility = None):
    """Builds `src` as <name>_glibc, <name>_musl and <name>_glibc_pie.

    Args:
      name: program name; the outputs are <flavour>/<name>.
      src: the C source file.
      hdrs: headers the source includes (from the same directory).
      visibility: visibility of the three targets.
    """
    for suffix, compiler, mode_flags in _FLAVOURS:
        _guest_genrule(name, src, hdrs, suffix, compiler, mode_flags, visibility)

def guest_flavours():
    """The flavour suffixes guest_program() produces."""
    return [f[0] for f in _FLAVOURS]
