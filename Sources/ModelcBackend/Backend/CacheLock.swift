// An exclusive lock on one runtime cache entry, so that modelc runs started together (`make -j`,
// two SwiftPM targets that use the plugin, CI's background build) compile a runtime once: the
// first builds it, the others wait and then find it built, instead of each spending the whole
// runtime build on the same cores.
//
// flock(2) on `<entry>.lock`: the kernel releases the lock when its holder exits, however it
// exits, so a crashed or killed build never leaves an entry locked. The descriptor is
// close-on-exec, so the compiler jobs a build starts never hold it. Where there is no lock to
// be had (a file system without flock, a lock file another user owns in a shared cache) or the
// holder has not finished after `patience`, the build runs unlocked, as it would without this
// file: in its own temporary entry, renamed into place.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class CacheLock {
    private var fd: Int32 = -1

    /// Takes the lock on `entry`.lock (created if missing), waiting at most `patience` seconds
    /// for another process that holds it; `log` says why it waits, or why it builds unlocked.
    init(entry: String, patience: Double = 900, log: (String) -> Void) {
        let path = entry + ".lock"
        fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0o666)   // flock needs no write access
        guard fd >= 0 else {
            log("runtime: \(path): cannot open the lock (\(String(cString: strerror(errno)))); building without it")
            return
        }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
        guard errno == EWOULDBLOCK || errno == EINTR else { release(); return }   // no flock here
        log("runtime: waiting for another modelc, which is building \(entry)")
        let deadline = Date().addingTimeInterval(patience)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else { release(); return }
            if Date() > deadline {
                log("runtime: the other modelc has not finished \(entry) after \(Int(patience)) s; building without waiting")
                release()
                return
            }
            usleep(100_000)
        }
    }

    /// Whether this process holds the lock.
    var held: Bool { fd >= 0 }

    /// Releases the lock (closing the descriptor releases the flock); called again, does nothing.
    func release() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    deinit { release() }
}
