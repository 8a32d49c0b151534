"""syscall_test(): one gtest binary, run on every platform.

A syscall test is written once against the Linux man pages and runs
natively (proving the test itself is right on this host) and under each
Sentry platform. Expected failures per platform live in expectations.txt,
applied by run_test.sh; see README.md in this directory.
"""

# Platforms that run under `sentry run --platform=<p>`. The runner also knows
# "native" (the binary run directly).
SENTRY_PLATFORMS = ["ptrace"]

def syscall_test(
        name,
        srcs,
        deps = [],
        size = "medium",
        tags = [],
        sentry_tags = [],
        timeout = None,
        **kwargs):
    """Builds <name>_bin and the tests <name>_native and <name>_<platform>.

    Args:
      name: base name, e.g. "open_test".
      srcs: the test's C++ sources.
      deps: must be empty: the test library, gmock and gtest_main are
        linked in by the genrule.
      size: Bazel test size of every generated test.
      tags: tags for every generated test.
      sentry_tags: extra tags for the Sentry platform tests.
      timeout: Bazel test timeout of every generated test.
      **kwargs: unused, kept for call-site compatibility.
    """
    bin_name = name + "_bin"
    if deps:
        fail("syscall_test: extra deps are not supported (the binary is " +
             "built by a genrule)")

    # Built by calling the compiler directly, like the guest programs: the
    # binary is a guest, so --config=asan's sanitizers must not reach it
    # (ASan's 16 TiB shadow cannot be reserved in a sandboxed address
    # space), and it is static so it needs nothing from the sandbox's root.
    native.genrule(
        name = bin_name,
        testonly = True,
        srcs = srcs + [
            "//tests/util:socket_util.h",
            "//tests/util:test_util.cc",
            "//tests/util:test_util.h",
        ],
        outs = [name + "_bin.out"],
        cmd = ("g++ -std=c++20 -O1 -static -Wall -Wextra -Werror -iquote . " +
               "$$(for f in $(SRCS); do case $$f in *.cc) echo $$f;; esac; " +
               "done) -o $@ -lgmock -lgtest_main -lgtest -pthread"),
    )

    common = dict(
        srcs = ["//tests/syscalls:run_test.sh"],
        size = size,
        timeout = timeout,
    )
    native.sh_test(
        name = name + "_native",
        args = [
            "--platform=native",
            "--binary=$(rootpath :%s)" % bin_name,
            "--expectations=$(rootpath //tests/syscalls:expectations.txt)",
        ],
        data = [
            ":" + bin_name,
            "//tests/syscalls:expectations.txt",
        ],
        tags = tags,
        **common
    )
    for platform in SENTRY_PLATFORMS:
        native.sh_test(
            name = name + "_" + platform,
            args = [
                "--platform=" + platform,
                "--binary=$(rootpath :%s)" % bin_name,
                "--sentry=$(rootpath //cmd/sentry)",
                "--expectations=$(rootpath //tests/syscalls:expectations.txt)",
            ],
            data = [
                ":" + bin_name,
                "//cmd/sentry",
                "//tests/syscalls:expectations.txt",
            ],
            tags = tags + sentry_tags,
            **common
        )
