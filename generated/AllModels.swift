// Emitted by modelc: every model in models/, for tests and tools. Do not edit.
import ModelcRuntime

public let allModels: [any CompiledModel.Type] = []
