// Reading whole files with a size bound, and atomic writes (temp file + fsync + rename).
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum FileIO {
    /// Reads a whole regular file; refuses directories, FIFOs, devices, sockets, missing files
    /// and files above `maxBytes`. Opened non-blocking, so that a FIFO cannot hang the open.
    public static func read(path: String, maxBytes: Int = DataLimits.maxFileBytes) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            if e == ENOENT { throw DataError(file: path, message: "no such file") }
            throw DataError(file: path, message: "cannot open: \(String(cString: strerror(e)))")
        }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 {
            throw DataError(file: path, message: "cannot stat: \(String(cString: strerror(errno)))")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw DataError(file: path, message: "is a directory, expected a file") }
        if (st.st_mode & S_IFMT) != S_IFREG {
            throw DataError(file: path, message: "is not a regular file (a FIFO, device or socket), expected a file")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)   // a regular file: reads block as usual
        let size = Int(st.st_size)
        if size > maxBytes {
            throw DataError(file: path, message: "file is \(size) bytes, larger than the limit of \(maxBytes) bytes")
        }
        var out = [UInt8](repeating: 0, count: size)
        var got = 0
        try out.withUnsafeMutableBytes { buf in
            while got < size {
                let n = Glibc.read(fd, buf.baseAddress! + got, size - got)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DataError(file: path, offset: got, message: "read failed: \(String(cString: strerror(errno)))")
                }
                if n == 0 { break }
                got += n
            }
        }
        if got < size { out.removeSubrange(got...) }
        return out
    }

    public static func exists(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
    }

    public static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}

public enum AtomicFile {
    /// Writes `bytes` to a temporary file next to `path`, fsyncs it, renames it over `path` and
    /// fsyncs the directory. A crash at any moment leaves either the old file or the new one.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        if name.isEmpty { throw DataError(file: path, message: "not a file path") }
        if !FileIO.isDirectory(dir) {
            throw DataError(file: path, message: "directory \(dir) does not exist")
        }
        let tmp = dir + "/." + name + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        if fd < 0 {
            throw DataError(file: path, message: "cannot create temporary file \(tmp): \(String(cString: strerror(errno)))")
        }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        do {
            var done = 0
            try bytes.withUnsafeBytes { buf in
                while done < bytes.count {
                    let n = Glibc.write(fd, buf.baseAddress! + done, bytes.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw DataError(file: path, offset: done, message: "write failed: \(String(cString: strerror(errno)))")
                    }
                    done += n
                }
            }
            if fsync(fd) != 0 {
                throw DataError(file: path, message: "fsync failed: \(String(cString: strerror(errno)))")
            }
        } catch {
            close(fd)
            throw error
        }
        if close(fd) != 0 {
            throw DataError(file: path, message: "close failed: \(String(cString: strerror(errno)))")
        }
        if rename(tmp, path) != 0 {
            throw DataError(file: path, message: "rename from \(tmp) failed: \(String(cString: strerror(errno)))")
        }
        ok = true
        let dfd = open(dir, O_RDONLY)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    public static func write(_ data: Data, to path: String) throws {
        try write([UInt8](data), to: path)
    }
}
