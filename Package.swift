// swift-tools-version:6.0
// modelc: an ahead-of-time compiler from Keras/PyTorch model summaries to standalone Swift trainers.
// Zero package dependencies: stdlib, Foundation, Dispatch and XCTest only.
import PackageDescription

// Hot loops live in the emitted code, but the runtime (optimizers, data decoding) is also
// built for this CPU in release builds. Debug builds stay portable and quick to compile.
let fastFlags: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-target-cpu", "native"], .when(configuration: .release)),
]// The runtime's generic kernels (Sources/ModelcRuntime/Kernels) are fast only once specialized.
// In debug builds the runtime is optimized anyway and emitted models call its kernels out of
// line (MODELC_KERNELS_OUT_OF_LINE), so the tests' unoptimized models compile quickly and run
// optimized kernels; `modelc compile` inlines them with the model's sizes.
let runtimeFlags: [SwiftSetting] = fastFlags + [
    .unsafeFlags(["-O"], .when(configuration: .debug)),
    .define("MODELC_KERNELS_OUT_OF_LINE", .when(configuration: .debug)),
]

let package = Package(
    name: "modelc",
    products: [
        .executable(name: "modelc", targets: ["modelc"]),
        // For apps: the runtime (compiled models are CompiledModel types, see ModelAPI.swift)
        // and the build-tool plugin that compiles model files among a target's sources.
        .library(name: "ModelcRuntime", targets: ["ModelcRuntime"]),
        // For an app that wants the generated binary's command line (`ModelcApp.main(Model.self)`).
        .library(name: "ModelcCommands", targets: ["ModelcCommands"]),
        .plugin(name: "ModelcPlugin", targets: ["ModelcPlugin"]),
    ],
    targets: [
        // Pipeline, front half: parsers (Frontend) and the graph with shapes, counts, inference (IR).
        // Reads model files (.keras, .h5, .onnx) through ModelcModelFiles' decoders.
        .target(name: "ModelcCore", dependencies: ["ModelcData", "ModelcModelFiles"], path: "Sources/ModelcCore"),
        // Pipeline, back half: fusion (Passes), Swift emitter and build driver (Backend).
        .target(name: "ModelcBackend", dependencies: ["ModelcCore", "ModelcData"], path: "Sources/ModelcBackend", exclude: ["README.md"]),
        // Runtime library linked into generated binaries: file formats and datasets.
        .target(name: "ModelcData", path: "Sources/ModelcData", exclude: ["Samples", "README.md"], swiftSettings: fastFlags),
        // Runtime library linked into generated binaries: model and weights files (HDF5/Keras, ONNX,
        // PyTorch, safetensors), read or written once per run; `modelc compile` builds it without
        // optimization (BuildDriver.swift).
        .target(name: "ModelcModelFiles", dependencies: ["ModelcData"], path: "Sources/ModelcModelFiles", exclude: ["README.md"],
                swiftSettings: fastFlags),
        // Runtime library linked into generated binaries: training loop, optimizers, metrics,
        // checkpoints, data loading, kernels and the library API (ModelAPI.swift).
        .target(name: "ModelcRuntime", dependencies: ["ModelcData", "ModelcModelFiles"], path: "Sources/ModelcRuntime", swiftSettings: runtimeFlags),
        // Linked into generated binaries too: the binary's command line (ModelcApp) and run reports,
        // cold code that `modelc compile` builds without optimization (BuildDriver.swift).
        .target(name: "ModelcCommands", dependencies: ["ModelcRuntime", "ModelcData", "ModelcModelFiles"], path: "Sources/ModelcCommands", swiftSettings: fastFlags),
        // Dataset downloads (HTTP with resume, MD5/SHA-256 checks). Linked only into the modelc CLI,
        // never into generated binaries, so that they need no FoundationNetworking.
        .target(name: "ModelcDownload", dependencies: ["ModelcData"], path: "Sources/ModelcDownload"),
        // The emitted Swift for every model in models/ (kept in sync by CI), compiled here so
        // that tests can run generated code directly.
        .target(name: "GeneratedModels", dependencies: ["ModelcRuntime"], path: "generated"),
        // Fuzzing entry points (one per parser or decoder family) for the libFuzzer harnesses in
        // Tests/Fuzz and the replay tests; linked into no product.
        .target(name: "ModelcFuzz", dependencies: ["ModelcCore", "ModelcData", "ModelcModelFiles", "ModelcRuntime"], path: "Sources/ModelcFuzz"),
        // `swift build` runs `modelc emit` on each model file among a target's sources
        // (Sources/ModelcPlugin/README.md).
        .plugin(name: "ModelcPlugin", capability: .buildTool(), dependencies: ["modelc"], path: "Sources/ModelcPlugin",
                exclude: ["README.md"]),
        // The thin command line. It never links the runtime (ModelcRuntime, ModelcCommands): the
        // binaries it compiles get theirs from the build driver, and `swift build --product modelc`,
        // a user's first command, then leaves out the runtime's optimized compile.
        .executableTarget(name: "modelc", dependencies: ["ModelcCore", "ModelcBackend", "ModelcData", "ModelcModelFiles", "ModelcDownload"],
                          path: "Sources/modelc"),

        .testTarget(name: "FrontendTests", dependencies: ["ModelcCore", "ModelcModelFiles", "ModelcFuzz"], path: "Tests/FrontendTests"),
        .testTarget(name: "DataTests", dependencies: ["ModelcData", "ModelcModelFiles", "ModelcFuzz"], path: "Tests/DataTests"),
        .testTarget(name: "DownloadTests", dependencies: ["ModelcDownload", "ModelcData"], path: "Tests/DownloadTests"),
        // A tiny hand-written CompiledModel shared by the runtime tests and modelc-testtrainer,
        // the real training process that the kill-and-resume tests signal.
        .target(name: "TinyModels", dependencies: ["ModelcRuntime"], path: "Tests/TinyModels"),
        .executableTarget(name: "modelc-testtrainer", dependencies: ["TinyModels", "ModelcRuntime", "ModelcCommands"], path: "Tests/TestTrainer"),
        // GeneratedModels: the CIFAR-10 model trains on the RGB image-folder fixture.
        .testTarget(name: "RuntimeTests", dependencies: ["ModelcRuntime", "ModelcCommands", "ModelcData", "ModelcFuzz", "TinyModels", "modelc-testtrainer",
                                                         "GeneratedModels"],
                    path: "Tests/RuntimeTests"),
        // `modelc sweep` end to end (runs the built modelc binary; compiles one tiny model).
        .testTarget(name: "SweepTests", dependencies: ["modelc", "ModelcData"], path: "Tests/SweepTests"),
        // The backend test models: small hand-built IRs covering every layer kind plus the Keras
        // reference fixtures, emitted into Tests/GeneratedTestModels by modelc-testmodels
        // (`--check` in CI), where BackendTests compiles and runs them.
        .target(name: "TestModelSpecs", dependencies: ["ModelcCore", "ModelcBackend"], path: "Tests/TestModelSpecs"),
        .executableTarget(name: "modelc-testmodels", dependencies: ["TestModelSpecs", "ModelcBackend"], path: "Tests/TestModelGenerator"),
        // The test models' emitted Swift (kept in sync by `modelc-testmodels --check`).
        // A fixture whose network is one of models/ registers the class generated/ holds.
        .target(name: "GeneratedTestModels", dependencies: ["ModelcRuntime", "GeneratedModels"], path: "Tests/GeneratedTestModels"),
        .testTarget(name: "BackendTests", dependencies: ["ModelcCore", "ModelcBackend", "ModelcRuntime", "ModelcCommands", "ModelcModelFiles",
                                                         "GeneratedModels", "GeneratedTestModels", "TestModelSpecs"],
                    path: "Tests/BackendTests"),
    ]
)
