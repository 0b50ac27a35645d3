// swift-tools-version:6.0
// An app that uses modelc as a library: the ModelcPlugin build-tool plugin compiles the model
// file among the target's sources (Sources/MNISTApp/mnist_mlp.md -> class MnistMlp) during
// `swift build`, and main.swift trains, evaluates and classifies through the ModelcRuntime API.
import PackageDescription

let package = Package(
    name: "MNISTApp",
    dependencies: [
        // modelc itself (this repository); an app elsewhere would give its path or URL.
        .package(name: "modelc", path: "../../.."),
    ],
    targets: [
        .executableTarget(
            name: "MNISTApp",
            dependencies: [.product(name: "ModelcRuntime", package: "modelc")],
            path: "Sources/MNISTApp",
            // Release builds of the emitted model want the flags `modelc compile` uses (a plugin
            // cannot set them); unsafeFlags are accepted in a root or local (path) package.
            swiftSettings: [.unsafeFlags(["-Ounchecked", "-target-cpu", "native"], .when(configuration: .release))],
            plugins: [.plugin(name: "ModelcPlugin", package: "modelc")]
        ),
    ]
)
