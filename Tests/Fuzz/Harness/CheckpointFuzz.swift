// libFuzzer harness, target "checkpoint": compiled with Sources/ModelcFuzz/CheckpointFuzzEntry.swift
// against sanitized builds of ModelcData and ModelcRuntime (see Tests/Fuzz/run.sh).
@_cdecl("LLVMFuzzerTestOneInput")
public func modelcFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    CheckpointFuzzEntry.run(bytes)
    return 0
}
