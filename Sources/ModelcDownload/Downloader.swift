// Downloads over HTTP(S) with resume and atomic completion.
//
// A file NAME is fetched into NAME.part next to its destination. If NAME.part exists (an earlier
// run was interrupted), the request asks for the rest with an HTTP Range header and appends;
// a server that ignores Range (200) restarts the file. Network failures are retried, each retry
// resuming. When the body is complete, the checksum (MD5, SHA-256) is verified, the file is
// fsynced and renamed to NAME; on a checksum mismatch NAME.part is deleted and nothing is
// installed.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ModelcData

public struct DownloadResult: Sendable {
    public let path: String
    public let bytes: Int64
    public let md5: String
    public let sha256: String
    /// Bytes that were already present in a .part file from an earlier run.
    public let resumedFrom: Int64
    public let attempts: Int
}

public final class Downloader: @unchecked Sendable {
    public var maxAttempts = 5
    public var timeout: TimeInterval = 60
    /// Called with (bytes so far, total if known).
    public var progress: (@Sendable (Int64, Int64?) -> Void)?
    /// Log lines (retries, restarts).
    public var log: @Sendable (String) -> Void = { _ in }
    /// Pause between retries (seconds).
    public var retryDelay: TimeInterval = 1

    public init() {}

    /// Fetches `url` to `destination`, verifying `md5` / `sha256` (hex) when given.
    public func fetch(_ url: URL, to destination: String, md5: String? = nil, sha256: String? = nil) throws -> DownloadResult {
        let part = destination + ".part"
        let startSize = fileSize(part)
        var attempts = 0
        var lastError = ""
        while true {
            attempts += 1
            let have = fileSize(part)
            let outcome = transfer(url, part: part, offset: have)
            switch outcome {
            case .complete:
                return try finish(part: part, destination: destination, url: url, md5: md5, sha256: sha256,
                                  resumedFrom: startSize, attempts: attempts)
            case .rangeNotSatisfiable:
                // Our .part is at least as long as the file: verify what we have; restart if bad.
                if let r = try? finish(part: part, destination: destination, url: url, md5: md5, sha256: sha256,
                                       resumedFrom: startSize, attempts: attempts) { return r }
                unlink(part)
                log("\(url.lastPathComponent): partial file did not verify; restarting from byte 0")
                lastError = "server refused the resume range"
            case .fatal(let message):
                throw DownloadError(message: "\(url.absoluteString): \(message)")
            case .retryable(let message):
                lastError = message
            }
            if attempts >= maxAttempts {
                throw DownloadError(message: "\(url.absoluteString): \(lastError) (gave up after \(attempts) attempts; \(fileSize(part)) bytes kept in \(part), run again to resume)")
            }
            log("\(url.lastPathComponent): \(lastError); resuming from byte \(fileSize(part)) (attempt \(attempts + 1) of \(maxAttempts))")
            if retryDelay > 0 { Thread.sleep(forTimeInterval: retryDelay) }
        }
    }

    func fileSize(_ path: String) -> Int64 {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : 0
    }

    private func finish(part: String, destination: String, url: URL, md5: String?, sha256: String?,
                        resumedFrom: Int64, attempts: Int) throws -> DownloadResult {
        let (size, m, s) = try digests(part)
        if let want = md5?.lowercased(), want != m {
            unlink(part)
            throw DownloadError(message: "\(url.absoluteString): checksum mismatch for \(destination): expected md5 \(want), got \(m) (\(size) bytes); the partial file was deleted")
        }
        if let want = sha256?.lowercased(), want != s {
            unlink(part)
            throw DownloadError(message: "\(url.absoluteString): checksum mismatch for \(destination): expected sha256 \(want), got \(s) (\(size) bytes); the partial file was deleted")
        }
        let fd = open(part, O_RDONLY)
        if fd >= 0 { _ = fsync(fd); close(fd) }
        if rename(part, destination) != 0 {
            throw DownloadError(message: "cannot rename \(part) to \(destination): \(String(cString: strerror(errno)))")
        }
        let dir = (destination as NSString).deletingLastPathComponent
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
        return DownloadResult(path: destination, bytes: size, md5: m, sha256: s, resumedFrom: resumedFrom, attempts: attempts)
    }

    /// MD5 and SHA-256 of a file, read in 1 MiB chunks.
    public func digests(_ path: String) throws -> (Int64, String, String) {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw DownloadError(message: "cannot read \(path)")
        }
        defer { try? h.close() }
        var md5 = MD5(), sha = SHA256()
        var total: Int64 = 0
        while true {
            let chunk = h.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { md5.update($0); sha.update($0) }
            total += Int64(chunk.count)
        }
        return (total, hexString(md5.finalize()), hexString(sha.finalize()))
    }

    enum Outcome { case complete, rangeNotSatisfiable, retryable(String), fatal(String) }

    /// One HTTP request, streaming the body into `part` (appending from `offset`).
    private func transfer(_ url: URL, part: String, offset: Int64) -> Outcome {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        if offset > 0 { request.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range") }
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        let delegate = TransferDelegate(part: part, offset: offset, progress: progress)
        let config = URLSessionConfiguration.ephemeral
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.timeoutIntervalForRequest = timeout
        let session = URLSession(configuration: config, delegate: delegate, delegateQueue: nil)
        session.dataTask(with: request).resume()
        delegate.done.wait()
        session.finishTasksAndInvalidate()
        return delegate.outcome()
    }
}

/// URLSession delegate writing the body to the .part file as it arrives.
private final class TransferDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let part: String
    let offset: Int64
    let progress: (@Sendable (Int64, Int64?) -> Void)?
    let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var handle: FileHandle?
    private var status = 0
    private var expected: Int64?
    private var received: Int64 = 0
    private var failure: String?
    private var fatal: String?
    private var base: Int64 = 0

    init(part: String, offset: Int64, progress: (@Sendable (Int64, Int64?) -> Void)?) {
        self.part = part; self.offset = offset; self.progress = progress
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
        lock.lock(); defer { lock.unlock() }
        guard let http = response as? HTTPURLResponse else {
            fatal = "not an HTTP response"; completionHandler(.cancel); return
        }
        status = http.statusCode
        let length = http.expectedContentLength >= 0 ? http.expectedContentLength : nil
        switch status {
        case 200:
            // Full body: (re)start the .part file from zero, even if we asked for a range.
            base = 0
            guard FileManager.default.createFile(atPath: part, contents: nil), let h = FileHandle(forWritingAtPath: part) else {
                fatal = "cannot create \(part)"; completionHandler(.cancel); return
            }
            handle = h
            expected = length
        case 206:
            // The body must continue exactly where our .part file ends.
            let range = http.value(forHTTPHeaderField: "Content-Range") ?? ""
            let start = range.split(separator: " ").dropFirst().first.flatMap { $0.split(separator: "-").first }.flatMap { Int64($0) }
            guard start == offset else {
                fatal = "server answered range request 'bytes=\(offset)-' with Content-Range '\(range)'"
                completionHandler(.cancel); return
            }
            guard let h = FileHandle(forWritingAtPath: part) else {
                fatal = "cannot open \(part)"; completionHandler(.cancel); return
            }
            h.seekToEndOfFile()
            handle = h
            base = offset
            expected = length
        case 416:
            completionHandler(.cancel); return
        default:
            let reason = HTTPURLResponse.localizedString(forStatusCode: status)
            if status >= 500 || status == 408 || status == 429 {
                failure = "HTTP \(status) \(reason)"
            } else {
                fatal = "HTTP \(status) \(reason)"
            }
            completionHandler(.cancel); return
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.lock()
        handle?.write(data)
        received += Int64(data.count)
        let now = base + received, total = expected.map { base + $0 }
        lock.unlock()
        progress?(now, total)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        lock.lock()
        if let h = handle { h.synchronizeFile(); h.closeFile() }
        handle = nil
        if let error, fatal == nil, failure == nil, status != 416 {
            failure = "transfer interrupted after \(received) bytes: \(error.localizedDescription)"
        } else if error == nil, let e = expected, received != e, fatal == nil {
            failure = "transfer ended after \(received) of \(e) bytes"
        }
        lock.unlock()
        done.signal()
    }

    func outcome() -> Downloader.Outcome {
        lock.lock(); defer { lock.unlock() }
        if let fatal { return .fatal(fatal) }
        if status == 416 { return .rangeNotSatisfiable }
        if let failure { return .retryable(failure) }
        if status == 200 || status == 206 { return .complete }
        return .retryable("no response")
    }
}

/// Downloads a named dataset's official files into a directory.
public enum DatasetDownload {
    /// Base URL override for tests and mirrors: the `baseURL` argument, else $MODELC_DOWNLOAD_BASE.
    public static func run(dataset: String, into directory: String, baseURL: String? = nil,
                           downloader: Downloader = Downloader(),
                           say: (String) -> Void = { print($0) }) throws -> [DownloadResult] {
        try run(source: DownloadCatalog.source(for: dataset), into: directory, baseURL: baseURL, downloader: downloader, say: say)
    }

    /// Same, for an explicit file list (tests, mirrors with other layouts).
    public static func run(source: DatasetSource, into directory: String, baseURL: String? = nil,
                           downloader: Downloader = Downloader(),
                           say: (String) -> Void = { print($0) }) throws -> [DownloadResult] {
        let base = baseURL ?? ProcessInfo.processInfo.environment["MODELC_DOWNLOAD_BASE"].flatMap { $0.isEmpty ? nil : $0 } ?? source.baseURL
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DownloadError(message: "\(directory): cannot create directory: \(error.localizedDescription)")
        }
        var results: [DownloadResult] = []
        for f in source.files {
            let dest = (directory as NSString).appendingPathComponent(f.name)
            let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
            guard let url = URL(string: trimmed + "/" + f.name) else {
                throw DownloadError(message: "invalid URL \(trimmed)/\(f.name)")
            }
            if FileManager.default.fileExists(atPath: dest) {
                let (size, m, s) = try downloader.digests(dest)
                if f.md5 == nil || f.md5 == m {
                    try verifyStructure(dest, f)
                    say("\(dest): already present (\(size) bytes\(f.md5 != nil ? ", md5 ok" : ", sha256 \(s)"))")
                    try unpack(dest, f, into: directory, say: say)
                    results.append(DownloadResult(path: dest, bytes: size, md5: m, sha256: s, resumedFrom: size, attempts: 0))
                    continue
                }
                throw DownloadError(message: "\(dest): exists but its md5 is \(m), expected \(f.md5!); delete it to download again")
            }
            say("fetching \(url.absoluteString)")
            let r: DownloadResult
            do {
                r = try downloader.fetch(url, to: dest, md5: f.md5)
            } catch let e as DownloadError {
                throw DownloadError(message: e.message + (source.note.map { "\n" + $0 } ?? ""))
            }
            do {
                try verifyStructure(dest, f)
            } catch {
                unlink(dest)
                throw error
            }
            say("\(dest): \(r.bytes) bytes\(r.resumedFrom > 0 ? " (resumed from \(r.resumedFrom))" : ""), \(f.md5 != nil ? "md5 \(r.md5) ok" : "no published checksum; structure verified; sha256 \(r.sha256)")")
            try unpack(dest, f, into: directory, say: say)
            results.append(r)
        }
        if let note = source.note { say(note) }
        return results
    }

    /// Unpacks a verified archive (RemoteFile.unpack) into `directory`, saying what it wrote.
    static func unpack(_ path: String, _ f: RemoteFile, into directory: String, say: (String) -> Void) throws {
        guard let unpack = f.unpack else { return }
        let written = try unpack(path, directory)
        say("\(path): unpacked \(written.count) files into \((written.first.map { ($0 as NSString).deletingLastPathComponent }) ?? directory)")
    }

    /// Decodes an IDX file to check its gzip CRC32, ISIZE and header against the expected shape.
    static func verifyStructure(_ path: String, _ f: RemoteFile) throws {
        guard let want = f.idxDims else { return }
        let r = try IDX.readTyped(path: path)
        if r.dims != want {
            throw DownloadError(message: "\(path): IDX dimensions \(r.dims), expected \(want) for the official file")
        }
    }
}
