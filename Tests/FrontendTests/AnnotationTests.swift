import XCTest
@testable import ModelcCore

final class AnnotationTests: XCTestCase {
    static let table = InferenceTests.table([
        ("input_1", "InputLayer", "28, 28, 1", 0),
        ("lambda_1", "Lambda", "28, 28, 1", 0),
        ("conv2d_1", "Conv2D", "26, 26, 8", 80),
        ("leaky_re_lu_1", "LeakyReLU", "26, 26, 8", 0),
        ("activation_1", "Activation", "26, 26, 8", 0),
        ("dropout_1", "Dropout", "26, 26, 8", 0),
        ("flatten_1", "Flatten", "5408", 0),
        ("dropout_2", "Dropout", "5408", 0),
        ("dense_1", "Dense", "10", 54090),
    ])

    func testFullAnnotationBlock() throws {
        let doc = Self.table + """

        Prose between the table and the annotations.

        ```modelc
        # comments and blank lines are ignored

        model: name=my_net
        dataset: fashion-mnist
        classes: a, b, c, d, e, f, g, h, i, j
        input: scale=1/127.5 offset=-1 shape=28x28x1
        layer lambda_1: affine scale=2 offset=-1
        layer conv2d_1: kernel=3x3 stride=1 padding=valid bias=true activation=elu
        layer leaky_re_lu_*: alpha=0.1
        layer activation_1: activation=tanh
        layer dropout_*: rate=0.25
        layer dropout_2: rate=0.4       # later directives win
        layer dense_1: activation=softmax bias=true
        train: optimizer=rmsprop lr=3e-4 batch=64 epochs=7 loss=margin weight_decay=0.0005 schedule=step:5:0.5
        train: val_split=0.2 early_stopping=patience:3 augment_shift=2 augment_rotate=7.5 seed=42 rho=0.8 momentum=0
        ```
        """
        let r = try Frontend.check(text: doc, path: "ann.md")
        XCTAssertTrue(r.ok)
        let ir = r.ir
        XCTAssertEqual(ir.name, "my_net")
        XCTAssertEqual(ir.dataset, "fashion-mnist")
        XCTAssertEqual(ir.classNames.first, "a")
        XCTAssertEqual(ir.inputScale, 1 / 127.5, accuracy: 1e-7)
        XCTAssertEqual(ir.inputOffset, -1)
        XCTAssertEqual(r.layer("lambda_1")?.op, .lambda(.affine(scale: 2, offset: -1)))
        guard case .conv2d(let a)? = r.layer("conv2d_1")?.op else { return XCTFail() }
        XCTAssertEqual(a.activation, .elu(alpha: 1))
        XCTAssertEqual(r.layer("leaky_re_lu_1")?.op, .activation(.leakyRelu(alpha: 0.1)))
        XCTAssertEqual(r.layer("activation_1")?.op, .activation(.tanh))
        XCTAssertEqual(r.layer("dropout_1")?.op, .dropout(rate: 0.25, spatial: false))
        XCTAssertEqual(r.layer("dropout_2")?.op, .dropout(rate: 0.4, spatial: false))
        let t = ir.training
        XCTAssertEqual(t.optimizer, .rmsprop)
        XCTAssertEqual(t.learningRate, 3e-4, accuracy: 1e-9)
        XCTAssertEqual([t.batchSize, t.epochs], [64, 7])
        XCTAssertEqual(t.loss, .multiMargin)
        XCTAssertEqual(t.weightDecay, 0.0005, accuracy: 1e-9)
        XCTAssertEqual(t.schedule, .step(every: 5, gamma: 0.5))
        XCTAssertEqual(t.validationSplit, 0.2, accuracy: 1e-7)
        XCTAssertEqual(t.earlyStopping, .patience(3))
        XCTAssertEqual(t.augmentation, Augmentation(maxShiftPixels: 2, maxRotationDegrees: 7.5))
        XCTAssertEqual(t.seed, 42)
        XCTAssertEqual(t.rmsRho, 0.8, accuracy: 1e-7)
        XCTAssertEqual(t.momentum, 0, accuracy: 1e-7)   // RMSprop takes no other (KerasImportSemanticsTests)
        // Everything was annotated except BatchNorm (none here): no layer defaults assumed.
        XCTAssertEqual(ir.assumptions, [], "\(ir.assumptions)")
    }

    func testHTMLCommentAnnotationsAndDefaults() throws {
        let doc = Self.table + "\n<!-- modelc\nlayer lambda_1: standardize mean=0.5 std=0.25\ntrain: optimizer=adadelta lr=0.1 early_stopping=drop-after:5 schedule=cosine\n-->\n"
        let r = try Frontend.check(text: doc, path: "c.md")
        XCTAssertEqual(r.layer("lambda_1")?.op, .lambda(.standardize(mean: 0.5, std: 0.25)))
        XCTAssertEqual(r.ir.training.earlyStopping, .dropAfter(minEpochs: 5))
        XCTAssertEqual(r.ir.training.schedule, .cosine)
        XCTAssertEqual(r.ir.training.rho, 0.95)
        // Defaults that were assumed are listed (and printed by check).
        let a = r.ir.assumptions.joined(separator: "\n")
        XCTAssertTrue(a.contains("dataset: mnist (default"), a)
        XCTAssertTrue(a.contains("leaky_re_lu_1: LeakyReLU alpha=0.3"), a)
        XCTAssertTrue(a.contains("dropout_1, dropout_2: Dropout rate=0.5"), a)
        XCTAssertTrue(a.contains("activation_1: Activation is relu"), a)
        XCTAssertTrue(a.contains("dense_1: activation=softmax (final Dense"), a)
        XCTAssertTrue(a.contains("train: batch=128 epochs=10 loss=crossentropy weight_decay=0 val_split=0.1 seed=1"), a)
        XCTAssertTrue(r.text().contains("Assumed defaults:\n"))
        // One-line comment form.
        let one = Self.table + "\n<!-- modelc dataset: kmnist -->\n"
        XCTAssertEqual(try Frontend.check(text: one, path: "c.md").ir.dataset, "kmnist")
        // CIFAR-10 (named, or guessed from the prose; not CIFAR-100) names its ten classes
        let cifar = try Frontend.check(text: Self.table + "\n<!-- modelc dataset: cifar10 -->\n", path: "c.md").ir
        XCTAssertEqual(cifar.classNames, ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"])
        XCTAssertEqual(try Frontend.check(text: "A CIFAR-10 network.\n" + Self.table, path: "c.md").ir.dataset, "cifar10")
        XCTAssertEqual(try Frontend.check(text: "A CIFAR-100 network.\n" + Self.table, path: "c.md").ir.dataset, "mnist")
        // A 32x32x3 input is CIFAR-10 only with ten outputs (not a 43-class traffic-sign model).
        func rgb(_ classes: Int) throws -> ModelIR {
            try Frontend.check(text: """
                Layer (type)                 Output Shape              Param #
                =================================================================
                input_1 (InputLayer)         [(None, 32, 32, 3)]       0
                flatten (Flatten)            (None, 3072)              0
                dense (Dense)                (None, \(classes))              \(3073 * classes)
                =================================================================
                """, path: "s.md").ir
        }
        XCTAssertEqual(try rgb(10).dataset, "cifar10")
        XCTAssertEqual(try rgb(43).dataset, "mnist")
        XCTAssertTrue(try rgb(43).assumptions.contains { $0.contains("the input 32x32x3 is not MNIST's 28x28: train on your own data with --data") })
    }

    func testErrorsNameFileAndLine() {
        let base = Self.table + "\n```modelc\n"   // the block opens on line 23; directives start on 24
        let cases: [(String, String)] = [
            ("dataset: cifar100", "x.md:24: error: unknown dataset 'cifar100' (expected one of: mnist, fashion-mnist, kmnist, kannada-mnist, dig-mnist, cifar10)"),
            ("optimizer: adam", "x.md:24: error: unknown annotation 'optimizer'"),
            ("train: optimizer=lion", "x.md:24: error: optimizer=lion: expected one of sgd"),
            ("train: lr=fast", "x.md:24: error: lr=fast: expected a number"),
            ("train: epochs=0", "x.md:24: error: epochs=0: expected an integer >= 1"),
            ("train: colour=red", "x.md:24: error: unknown train key 'colour'"),
            ("train: schedule=step:x:0.5", "x.md:24: error: schedule=step:x:0.5: expected constant, step:EVERY:GAMMA"),
            ("layer conv2d_1: kernel=3x", "x.md:24: error: kernel=3x: expected N or HxW"),
            ("layer conv2d_1: padding=full", "x.md:24: error: padding=full: expected same, valid or causal (Conv1D)"),
            ("layer dropout_1: rate=1.5", "x.md:24: error: rate=1.5: expected 0 <= rate < 1"),
            ("layer lambda_1: standardize mean=0.1", "x.md:24: error: standardize needs mean= and std="),
            ("layer nothing_*: rate=0.1", "x.md:24: error: layer pattern 'nothing_*' matches no layer"),
            ("layer conv2d_1: rate=0.1", "x.md:24: error: layer 'conv2d_1' (Conv2D) has no 'rate' setting"),
            ("layer dense_1: wobble=1", "x.md:24: error: unknown layer key 'wobble'"),
            ("layer dense_1 activation=relu", "x.md:24: error: annotation 'layer dense_1 activation=relu': expected 'KEY: VALUES'"),
            ("classes: a, b", "x.md:24: error: classes: 2 names given but the model outputs 10 values"),
            ("model: name=9lives", "x.md:24: error: model name '9lives' must be an identifier"),
            ("input: shape=28x28x0", "x.md:24: error: input shape '28x28x0'"),
        ]
        for (directive, expected) in cases {
            checkError(base + directive + "\n```\n", contains: expected, path: "x.md")
        }
        checkError(Self.table + "\n```modelc\ndataset: mnist\n", contains: "x.md:23: error: the ```modelc block is not closed", path: "x.md")
        checkError(Self.table + "\n<!-- modelc\ndataset: mnist\n", contains: "x.md:23: error: the <!-- modelc comment is not closed", path: "x.md")
    }

    func testBinaryHeadDefaultsToSigmoid() throws {
        let t = InferenceTests.table([("input_1", "InputLayer", "20", 0), ("dense_1", "Dense", "8", 168), ("dense_2", "Dense", "1", 9)])
        let r = try Frontend.check(text: t, path: "bin.md")
        XCTAssertEqual(r.layer("dense_1")?.op, .dense(units: 8, useBias: true, activation: .relu))
        XCTAssertEqual(r.layer("dense_2")?.op, .dense(units: 1, useBias: true, activation: .sigmoid))
        XCTAssertEqual(r.ir.classNames, ["1"])   // a binary classifier: the output is P(class 1) (issue 17)
        XCTAssertTrue(r.ir.assumptions.contains { $0.contains("dense_2: activation=sigmoid") })
    }

    func testGlob() {
        XCTAssertTrue(Glob.match("dropout_*", "dropout_12"))
        XCTAssertTrue(Glob.match("*", ""))
        XCTAssertTrue(Glob.match("a*b*c", "aXXbYc"))
        XCTAssertFalse(Glob.match("a*b*c", "aXXbY"))
        XCTAssertFalse(Glob.match("conv2d_1", "conv2d_10"))
    }
}
