// Emitted by modelc: every model in models/, for tests and tools. Do not edit.
// Regenerate with `modelc generate` (or `modelc compile MODEL`).
import ModelcRuntime

nonisolated(unsafe) public let allModels: [any CompiledModel.Type] = [
    Cifar10SmallCnn.self,
    FashionConvAutoencoder.self,
    MnistConv1dRows.self,
    MnistLstmRows.self,
    MnistResnetSmall.self,
    MnistTransformerRows.self,
    PytorchMnistExamplesNet.self,
    Seed000KmnistCnn.self,
    Seed001Mlp12812864ReluSgd.self,
    Seed001Mlp1286432ReluNesterov.self,
    Seed001Mlp12864ReluAdam.self,
    Seed001Mlp25612864SigmoidRmsprop.self,
    Seed002MnistCnn.self,
    Seed003K4.self,
    Seed003K5.self,
    Seed003K6.self,
    Seed004KannadaCnn.self,
    WordsLangBigru.self,
]
