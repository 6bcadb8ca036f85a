"""Stage one of the sandbox: confine this process, then exec the interpreter that runs the code.

Run by ``grader.coding.sandbox`` as ``python -I -S -c <this source> <config json>`` in a fresh
session, with the empty work directory as its current directory. It imports nothing from mockint
(the source is passed on the command line), confines itself, reports on the result pipe which
confinements took, and then ``execve``s ``python -I -S -c <harness>``: every limit is in place
before the interpreter that runs candidate code starts, and no ``preexec_fn`` is needed (unsafe in
the TUI, which has threads).

Each step is best effort and reported, because what the OS allows differs (no user namespaces in
some containers, no seccomp on macOS): the sandbox tells the caller what it could not do rather
than pretending.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import resource
import struct
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
AT_FDCWD = -100
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 0x1
MOUNT_ATTR_NOSUID = 0x2
MOUNT_ATTR_NODEV = 0x4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
PR_CAPBSET_DROP = 24
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_KILL_PROCESS = 0x80000000
EAGAIN = 11
EPERM = 1

# Per architecture: the audit id, mount_setattr's number, and the system calls the candidate's code
# never needs and must not make. Creating processes or threads (a fork bomb); signalling, tracing or
# writing into other processes (mockint itself runs as the same user); undoing the namespaces,
# mounts and limits set up here (when mockint runs as root).
ARCHES = {
    "x86_64": {
        "audit": 0xC000003E,
        "mount_setattr": 442,
        "no_processes": {"clone": 56, "fork": 57, "vfork": 58, "clone3": 435},
        "denied": {
            "kill": 62, "tkill": 200, "tgkill": 234, "pidfd_send_signal": 424, "ptrace": 101,
            "process_vm_writev": 311, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
            "unshare": 272, "setns": 308, "mount_setattr": 442, "move_mount": 429, "open_tree": 428,
            "fsopen": 430, "fsconfig": 431, "fsmount": 432, "setrlimit": 160, "prlimit64": 302,
        },
    },
    "aarch64": {
        "audit": 0xC00000B7,
        "mount_setattr": 442,
        "no_processes": {"clone": 220, "clone3": 435},
        "denied": {
            "kill": 129, "tkill": 130, "tgkill": 131, "pidfd_send_signal": 424, "ptrace": 117,
            "process_vm_writev": 271, "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51,
            "unshare": 97, "setns": 268, "mount_setattr": 442, "move_mount": 429, "open_tree": 428,
            "fsopen": 430, "fsconfig": 431, "fsmount": 432, "setrlimit": 164, "prlimit64": 261,
        },
    },
}


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _isolate_namespaces(libc: ctypes.CDLL, workdir: str, arch: dict | None) -> dict[str, bool]:
    """New network and mount namespaces; everything but ``workdir`` mounted read-only."""
    done = {"network": False, "read_only_fs": False}
    flags = CLONE_NEWNS | CLONE_NEWNET | (0 if os.geteuid() == 0 else CLONE_NEWUSER)
    if libc.unshare(flags) != 0:
        # No mount namespace allowed: try the network alone (root without CAP_SYS_ADMIN, for one).
        if libc.unshare(CLONE_NEWNET | (0 if os.geteuid() == 0 else CLONE_NEWUSER)) == 0:
            done["network"] = True
        return done
    done["network"] = True
    if arch is None or libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return done
    path = workdir.encode()
    if libc.mount(path, path, None, MS_BIND, None) != 0:
        return done

    class MountAttr(ctypes.Structure):
        _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                    ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]

    locked = MountAttr(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, 0, 0)
    if libc.syscall(arch["mount_setattr"], AT_FDCWD, b"/", AT_RECURSIVE, ctypes.byref(locked),
                    ctypes.sizeof(locked)) != 0:
        return done
    writable = MountAttr(0, MOUNT_ATTR_RDONLY, 0, 0)
    if libc.syscall(arch["mount_setattr"], AT_FDCWD, path, 0, ctypes.byref(writable), ctypes.sizeof(writable)) != 0:
        return done
    os.chdir(workdir)  # re-enter through the new mount, or the old (read-only) one stays our cwd
    done["read_only_fs"] = True
    return done


def _set_limits(limits: dict) -> None:
    cpu = int(limits["cpu_seconds"])
    table = {
        resource.RLIMIT_CPU: (cpu, cpu + 1),  # SIGXCPU at the soft limit, SIGKILL a second later
        resource.RLIMIT_AS: (limits["memory_bytes"],) * 2,
        resource.RLIMIT_FSIZE: (limits["file_size_bytes"],) * 2,
        resource.RLIMIT_NOFILE: (limits["open_files"],) * 2,
        resource.RLIMIT_CORE: (0, 0),
    }
    if hasattr(resource, "RLIMIT_NPROC"):
        table[resource.RLIMIT_NPROC] = (limits["processes"],) * 2
    for which, value in table.items():
        resource.setrlimit(which, value)


def _drop_capabilities(libc: ctypes.CDLL) -> bool:
    """As root: empty the capability bounding set, so the exec'd interpreter has no capabilities."""
    if os.geteuid() != 0:
        return True
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            return ctypes.get_errno() == 22  # EINVAL: past the last capability this kernel knows
    return True


def _seccomp(libc: ctypes.CDLL, arch: dict) -> bool:
    """A BPF filter: refuse new processes (EAGAIN) and the calls listed in ``denied`` (EPERM)."""
    no_processes = sorted(arch["no_processes"].values())
    denied = sorted(set(arch["denied"].values()) - set(no_processes))
    numbers = [(n, SECCOMP_RET_ERRNO | EAGAIN) for n in no_processes] + [(n, SECCOMP_RET_ERRNO | EPERM) for n in denied]
    program: list[tuple[int, int, int, int]] = [
        (0x20, 0, 0, 4),  # load the architecture
        (0x15, 1, 0, arch["audit"]),  # ours: skip the kill
        (0x06, 0, 0, SECCOMP_RET_KILL_PROCESS),
        (0x20, 0, 0, 0),  # load the system call number
    ]
    if platform.machine() == "x86_64":
        # x32 system calls (numbers with bit 30 set) would bypass the table below.
        program.append((0x35, 0, 1, 0x40000000))
        program.append((0x06, 0, 0, SECCOMP_RET_ERRNO | EPERM))
    for number, verdict in numbers:
        program.append((0x15, 0, 1, number))
        program.append((0x06, 0, 0, verdict))
    program.append((0x06, 0, 0, SECCOMP_RET_ALLOW))
    raw = b"".join(struct.pack("HBBI", *instruction) for instruction in program)
    buffer = ctypes.create_string_buffer(raw)

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(program), ctypes.cast(buffer, ctypes.c_void_p))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0


def main() -> None:
    config = json.loads(sys.argv[1])
    report: dict[str, object] = {"event": "sandbox", "network": False, "read_only_fs": False,
                                 "syscall_filter": False, "capabilities_dropped": False}
    libc = _libc() if sys.platform.startswith("linux") else None
    arch = ARCHES.get(platform.machine())
    if libc is not None:
        report.update(_isolate_namespaces(libc, config["workdir"], arch))
    _set_limits(config["limits"])
    if libc is not None:
        report["capabilities_dropped"] = _drop_capabilities(libc)
        if arch is not None:
            report["syscall_filter"] = _seccomp(libc, arch)
    result_fd = config["result_fd"]
    os.write(result_fd, (json.dumps(report) + "\n").encode())
    python = config["python"]
    os.execve(python, [python, "-I", "-S", "-c", config["harness"]], config["env"])


if __name__ == "__main__":
    main()
