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
      deps: extra deps; the test library, gmock and gtest_main are implied.
      size: Bazel test size of every generated test.
      tags: tags for every generated test.
      sentry_tags: extra tags for the Sentry platform tests.
      timeout: Bazel test timeout of every generated test.
      **kwargs: passed to the cc_binary (e.g. copts).
    """
    bin_name = name + "_bin"
    native.cc_binary(
        name = bin_name,
        testonly = True,
        srcs = srcs,
        # Static, so the binary runs under the Sentry before it can load a
        # dynamic ELF's interpreter. ASan does not support -static; under
        # --config=asan the binary is dynamic and only _native is useful.
        linkopts = select({
            "//tests/syscalls:asan": [],
            "//conditions:default": ["-static"],
        }),
        deps = deps + [
            "//tests/util:test_util",
            "//third_party/system:gmock",
            "//third_party/system:gtest_main",
        ],
        **kwargs
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
