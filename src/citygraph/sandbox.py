"""Operating-system limits for the processes that run SPARQL: no network, bounded memory.

pyoxigraph fetches URLs for ``SERVICE`` and ``LOAD``. Whether a query may do that must not
depend on a second SPARQL reader agreeing with the engine (issue 9 §1: a comment ended by CR
hid a ``SERVICE`` from it). :func:`install_network_filter` makes the kernel refuse, for the
calling process, every ``socket()`` other than ``AF_UNIX`` and ``io_uring_setup`` (io_uring
could open sockets without the ``socket`` system call), with ``EPERM``. Pipes and already open
file descriptors keep working. It is a seccomp filter (``man 2 seccomp``): once installed it
cannot be removed, and every thread of the process, and every process it starts, inherits it.

:func:`limit_memory` caps the process's data segment (``RLIMIT_DATA``: heap and private
writable mappings, the memory a query's intermediate results take) so that one query cannot
take the machine's memory (issue 9 §2).

No web framework here; any process may call these at start (the query processes do).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import platform
import resource
import struct

from citygraph.errors import CitygraphError

__all__ = [
    "SandboxError",
    "data_segment_bytes",
    "install_network_filter",
    "limit_memory",
    "network_filter_program",
]

# <linux/prctl.h>, <linux/seccomp.h>, <linux/filter.h>, <linux/audit.h>
_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_BPF_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_BPF_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_BPF_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_BPF_RET_K = 0x06  # BPF_RET | BPF_K
# struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
_OFFSET_NR = 0
_OFFSET_ARCH = 4
_OFFSET_ARG0_LOW = 16  # both supported architectures are little-endian
_AF_UNIX = 1
#: x86_64 marks x32-ABI system calls with this bit; they are refused as a whole.
_X32_BIT = 0x40000000


class _Arch:
    def __init__(self, audit: int, socket: int, io_uring_setup: int, seccomp: int) -> None:
        self.audit = audit
        self.socket = socket
        self.io_uring_setup = io_uring_setup
        self.seccomp = seccomp


#: System call numbers (arch/*/include/uapi/asm/unistd*.h, include/uapi/asm-generic/unistd.h).
_ARCHES = {
    "x86_64": _Arch(audit=0xC000003E, socket=41, io_uring_setup=425, seccomp=317),
    "aarch64": _Arch(audit=0xC00000B7, socket=198, io_uring_setup=425, seccomp=277),
}


class SandboxError(CitygraphError):
    """The operating system limit cannot be applied here (unknown architecture, old kernel)."""


def network_filter_program(machine: str) -> bytes:
    """The seccomp BPF program of :func:`install_network_filter` for ``machine``
    (``platform.machine()``), as the bytes of its ``struct sock_filter`` array.

    >>> program = network_filter_program("x86_64")
    >>> len(program) // 8  # instructions, 8 bytes each
    13
    >>> program == network_filter_program("aarch64")  # the same checks, other syscall numbers
    False

    Raises:
        SandboxError: ``machine`` is not x86_64 or aarch64.
    """
    arch = _ARCHES.get(machine)
    if arch is None:
        raise SandboxError(
            f"cannot keep the query processes off the network on this machine ({machine}): "
            "only x86_64 and aarch64 are supported; set CITYGRAPH_SERVICE_ALLOWLIST to run "
            "without the filter"
        )
    deny = _SECCOMP_RET_ERRNO | errno.EPERM
    # (code, jump if true, jump if false, k); jumps count instructions after the next one.
    program = [
        (_BPF_LD_W_ABS, 0, 0, _OFFSET_ARCH),
        (_BPF_JEQ_K, 1, 0, arch.audit),
        (_BPF_RET_K, 0, 0, deny),  # another ABI (i386 on x86_64, arm32 on aarch64)
        (_BPF_LD_W_ABS, 0, 0, _OFFSET_NR),
        (_BPF_JGE_K, 0, 1, _X32_BIT),
        (_BPF_RET_K, 0, 0, deny),
        (_BPF_JEQ_K, 0, 1, arch.io_uring_setup),
        (_BPF_RET_K, 0, 0, deny),
        (_BPF_JEQ_K, 0, 3, arch.socket),
        (_BPF_LD_W_ABS, 0, 0, _OFFSET_ARG0_LOW),
        (_BPF_JEQ_K, 1, 0, _AF_UNIX),
        (_BPF_RET_K, 0, 0, deny),
        (_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW),
    ]
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in program)


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def install_network_filter(*, all_threads: bool = True) -> None:
    """Make the kernel refuse network sockets to this process, its threads and children
    (``all_threads=False``: to the calling thread and the threads and processes it starts).

    After this call ``socket()`` with any domain but ``AF_UNIX``, and ``io_uring_setup``, fail
    with ``EPERM`` (Python raises :class:`PermissionError`); nothing can undo it. Call it at
    process start, before any untrusted input is read.

    Raises:
        SandboxError: not Linux x86_64/aarch64, or the kernel refused the filter.
    """
    program = network_filter_program(platform.machine())
    arch = _ARCHES[platform.machine()]
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p).value)
    # no_new_privs lets an unprivileged process install a filter (and keeps setuid programs
    # from shedding it); TSYNC applies the filter to every thread already running.
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SandboxError(f"prctl(PR_SET_NO_NEW_PRIVS) failed: {_strerror()}")
    flags = _SECCOMP_FILTER_FLAG_TSYNC if all_threads else 0
    result = libc.syscall(arch.seccomp, _SECCOMP_SET_MODE_FILTER, flags, ctypes.byref(fprog))
    if result != 0:
        raise SandboxError(f"the kernel refused the seccomp filter: {_strerror()}")


def _strerror() -> str:
    code = ctypes.get_errno()
    return f"{os.strerror(code)} (errno {code})"


def data_segment_bytes() -> int:
    """The process's data segment now (``VmData`` of ``/proc/self/status``), in bytes: what
    ``RLIMIT_DATA`` is compared with.

    >>> data_segment_bytes() > 1_000_000  # an interpreter holds megabytes at least
    True
    """
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    raise SandboxError("/proc/self/status has no VmData line")  # pragma: no cover


def limit_memory(extra_bytes: int) -> int:
    """Let this process's data segment grow by at most ``extra_bytes`` from now on.

    The limit is what the process holds now (its copy of the build, the interpreter) plus
    ``extra_bytes``; an allocation beyond it fails (Rust then aborts the process, Python raises
    :class:`MemoryError`). Returns the limit set, in bytes.

    Raises:
        SandboxError: the limit cannot be set (a hard limit below it).
    """
    limit = data_segment_bytes() + extra_bytes
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    except (ValueError, OSError) as error:
        raise SandboxError(f"cannot limit the query process's memory: {error}") from None
    return limit
