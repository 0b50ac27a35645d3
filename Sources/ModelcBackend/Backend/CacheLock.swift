// An exclusive lock on one runtime cache entry, so that modelc runs started together (`make -j`,
// two SwiftPM targets that use the plugin, CI's background build) compile a runtime once: the
// first builds it, the others wait and then find it built, instead of each spending the whole
// runtime build on the same cores.
//
// flock(2) on `<entry>.lock`: the kernel releases the lock when its holder exits, however it
// exits, so a crashed or killed build never leaves an entry locked. The descriptor is close-on-exec,
// so the compiler jobs a build starts never hold it. A file system without flock (some network
// mounts) gets no lock: the build then runs as before, each run in its own temporary entry,
// renamed into place.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class CacheLock {
    private var fd: Int32

    /// Takes the lock on `path` (created if missing). `waiting` is called once, before blocking,
    /// if another process holds it.
    init(_ path: String, waiting: () -> Void) throws {
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw BuildError(message: "\(path): cannot open the runtime cache's lock file: \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
        guard errno == EWOULDBLOCK else { release(); return }   // no flock here: build unlocked
        waiting()
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { release(); return }
        }
    }

    /// Whether this process holds the lock (false where the file system has no flock).
    var held: Bool { fd >= 0 }

    /// Releases the lock (closing the descriptor releases the flock); called again, does nothing.
    func release() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    deinit { release() }
}
