// libFuzzer harness, target "onnx": compiled with Sources/ModelcFuzz/ONNXFuzzEntry.swift
// against sanitized builds of ModelcData and ModelcCore (see Tests/Fuzz/run.sh).
@_cdecl("LLVMFuzzerTestOneInput")
public func modelcFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    ONNXFuzzEntry.run(bytes)
    return 0
}
