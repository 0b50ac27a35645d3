// A tiny HTTP/1.1 file server on 127.0.0.1 for the download tests: GET with optional
// "Range: bytes=N-", one request per connection, and fault injection (cut a response short,
// serve different bytes, ignore Range).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class LocalHTTPServer: @unchecked Sendable {
    struct Request: Sendable { let path: String; let range: String? }

    private let lock = NSLock()
    private var files: [String: [UInt8]] = [:]
    /// path -> number of body bytes to send before closing the connection, for the next responses.
    private var cutAfter: [String: [Int]] = [:]
    private var ignoreRange = false
    private var _requests: [Request] = []
    private let listenFD: Int32
    let port: UInt16
    private var thread: Thread?
    private var stopped = false

    var requests: [Request] { lock.lock(); defer { lock.unlock() }; return _requests }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NSError(domain: "server", code: 1) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0, listen(fd, 16) == 0 else { close(fd); throw NSError(domain: "server", code: 2) }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        listenFD = fd
        port = UInt16(bigEndian: bound.sin_port)
        let t = Thread { [unowned self] in self.serve() }
        thread = t
        t.start()
    }

    func set(_ path: String, _ body: [UInt8]) { lock.lock(); files[path] = body; lock.unlock() }
    func cut(_ path: String, after counts: [Int]) { lock.lock(); cutAfter[path] = counts; lock.unlock() }
    func setIgnoreRange(_ v: Bool) { lock.lock(); ignoreRange = v; lock.unlock() }

    /// Idempotent: closing the listening descriptor twice could close a descriptor that
    /// something else (e.g. URLSession's curl handles) has reused meanwhile.
    func stop() {
        lock.lock()
        let was = stopped
        stopped = true
        lock.unlock()
        if was { return }
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
    }

    private func serve() {
        while true {
            let c = accept(listenFD, nil, nil)
            if c < 0 {
                lock.lock(); let s = stopped; lock.unlock()
                if s { return }
                continue
            }
            handle(c)
            close(c)
        }
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) {
        var off = 0
        bytes.withUnsafeBytes { buf in
            while off < bytes.count {
                let n = send(fd, buf.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL))
                if n <= 0 { return }
                off += n
            }
        }
    }

    private func handle(_ fd: Int32) {
        var req: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while !(req.count >= 4 && Array(req.suffix(4)) == [13, 10, 13, 10]) {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { return }
            req += buf[0..<n]
            if req.count > 65536 { return }
        }
        let text = String(decoding: req, as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return }
        let path = String(parts[1])
        var range: String? = nil
        for l in lines.dropFirst() {
            let kv = l.split(separator: ":", maxSplits: 1)
            if kv.count == 2 && kv[0].lowercased() == "range" { range = kv[1].trimmingCharacters(in: .whitespaces) }
        }
        lock.lock()
        _requests.append(Request(path: path, range: range))
        let body = files[path]
        var cut: Int? = nil
        if var c = cutAfter[path], !c.isEmpty { cut = c.removeFirst(); cutAfter[path] = c }
        let ignore = ignoreRange
        lock.unlock()
        guard let body else {
            sendAll(fd, Array("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
            return
        }
        var start = 0
        var status = "200 OK"
        var extra = ""
        if let r = range, !ignore, r.hasPrefix("bytes="), r.hasSuffix("-"), let s = Int(r.dropFirst(6).dropLast()) {
            if s >= body.count {
                sendAll(fd, Array("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */\(body.count)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
                return
            }
            start = s
            status = "206 Partial Content"
            extra = "Content-Range: bytes \(s)-\(body.count - 1)/\(body.count)\r\n"
        }
        let payload = Array(body[start...])
        sendAll(fd, Array("HTTP/1.1 \(status)\r\nContent-Type: application/octet-stream\r\nContent-Length: \(payload.count)\r\n\(extra)Accept-Ranges: bytes\r\nConnection: close\r\n\r\n".utf8))
        if let cut, cut < payload.count {
            sendAll(fd, Array(payload[0..<cut]))
            // Let the client read what was sent, then drop the connection mid-body.
            usleep(50_000)
            return
        }
        sendAll(fd, payload)
    }
}
