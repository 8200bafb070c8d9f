# Sanitizer and fuzzing builds (see docs/handbook/testing.md, "Sanitizers and fuzzing").
#
#   -DECHOSCOPE_SANITIZE=address   AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer)
#   -DECHOSCOPE_SANITIZE=thread    ThreadSanitizer
#   -DECHOSCOPE_FUZZ=ON            the libFuzzer targets in tests/fuzz (clang only)
#
# The flags apply to every target of the project. Qt itself comes from Debian and is not
# instrumented: ASan still sees every heap access (malloc is intercepted process-wide) but
# not Qt's own out-of-bounds reads of its stack or globals; TSan does not see the locks
# and atomics inside Qt's libraries, see tests/tsan.supp.

set(ECHOSCOPE_SANITIZE "" CACHE STRING
    "Build with sanitizers: empty (off), address (ASan+UBSan) or thread (TSan)")
set_property(CACHE ECHOSCOPE_SANITIZE PROPERTY STRINGS "" address thread)
option(ECHOSCOPE_FUZZ "Build the libFuzzer targets in tests/fuzz (needs clang)" OFF)

if(ECHOSCOPE_SANITIZE STREQUAL "address")
    # Without UBSan's vptr check: the first time it meets a dynamic type it probes the
    # object's memory through a pipe, and in a process out of descriptors (which
    # tst_adversarial's flood makes on purpose) that probe fails and a live object is
    # reported as invalid ("object has invalid vptr, memory cannot be printed"). ASan still
    # catches a use of a freed object.
    set(ECHOSCOPE_SANITIZER_FLAGS
        -fsanitize=address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer
        -fno-sanitize-recover=undefined)
elseif(ECHOSCOPE_SANITIZE STREQUAL "thread")
    set(ECHOSCOPE_SANITIZER_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
elseif(NOT ECHOSCOPE_SANITIZE STREQUAL "")
    message(FATAL_ERROR "ECHOSCOPE_SANITIZE must be empty, \"address\" or \"thread\", "
        "not \"${ECHOSCOPE_SANITIZE}\"")
endif()

if(ECHOSCOPE_SANITIZER_FLAGS)
    if(MSVC)
        message(FATAL_ERROR "ECHOSCOPE_SANITIZE is supported with GCC and Clang only")
    endif()
    add_compile_options(${ECHOSCOPE_SANITIZER_FLAGS})
    add_link_options(${ECHOSCOPE_SANITIZER_FLAGS})
    list(JOIN ECHOSCOPE_SANITIZER_FLAGS " " flags)
    message(STATUS "Echoscope: building with ${flags}")
endif()

if(ECHOSCOPE_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
        message(FATAL_ERROR "ECHOSCOPE_FUZZ needs clang (libFuzzer): configure with "
            "CXX=clang++, or use ./echoscope.sh fuzz")
    endif()
    if(ECHOSCOPE_SANITIZE STREQUAL "thread")
        message(FATAL_ERROR "ECHOSCOPE_FUZZ goes with ECHOSCOPE_SANITIZE=address or empty")
    endif()
    # Coverage feedback for everything the fuzzers link (echoscope_core); the fuzz targets
    # themselves add -fsanitize=fuzzer, which brings libFuzzer's main().
    add_compile_options(-fsanitize=fuzzer-no-link)
    # Q_ASSERT states the framers' internal invariants: keep it in release-type builds.
    add_compile_definitions(QT_FORCE_ASSERTS)
endif()
