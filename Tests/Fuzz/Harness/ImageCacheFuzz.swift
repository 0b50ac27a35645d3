// libFuzzer harness, target "imagecache": compiled with Sources/ModelcFuzz/ImageCacheFuzzEntry.swift
// against sanitized builds of ModelcData and ModelcRuntime (see Tests/Fuzz/run.sh).
@_cdecl("LLVMFuzzerTestOneInput")
public func modelcFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    ImageCacheFuzzEntry.run(bytes)
    return 0
}
