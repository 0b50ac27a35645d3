#!/usr/bin/env python3
"""Keras 3 files of recurrent models (KerasRecurrentFileTests), made once and committed; CI never
runs this:

    KERAS_BACKEND=tensorflow ~/.cache/modelc-peers/venv/bin/python Tests/Fixtures/keras_files/make_recurrent_keras_files.py

The numerics fixtures `sequence_stack` (Embedding, LSTM, GRU both ways, SimpleRNN, Bidirectional
GRU and LSTM) and `time_distributed` (TimeDistributed Flatten and Dense, LSTM, Dense on a
sequence, GRU) are rebuilt in float32 with their committed weights.npz and saved as
`<case>.keras` (model.save) and `<case>.weights.h5` (model.save_weights). Keras keeps a
recurrent layer's variables under its cell (`layers/lstm/cell/vars`, the group named
"lstm_cell"), a Bidirectional's under `forward_layer/cell` and `backward_layer/cell`, and a
TimeDistributed's under `layer`: the files modelc must place by those paths.
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
HERE = os.path.dirname(os.path.abspath(__file__))
NUMERICS = os.path.join(HERE, "..", "numerics")
sys.path.insert(0, NUMERICS)

import numpy as np  # noqa: E402
import make_fixtures as mf  # noqa: E402
import make_sequence_fixtures as sf  # noqa: E402  (sets mf.key_name for Bidirectional / TimeDistributed)
from make_fixtures import L  # noqa: E402

models = {}
for name in ("sequence_stack", "time_distributed"):
    m = mf.build(sf.CASES[name]["build"], "float32")
    w = dict(np.load(os.path.join(NUMERICS, name, "weights.npz")))
    mf.load_weights(m, w)
    m.save(os.path.join(HERE, f"{name}.keras"))
    m.save_weights(os.path.join(HERE, f"{name}.weights.h5"))
    models[name] = m
    print("wrote", name, sum(int(np.prod(v.shape)) for v in m.weights), "values")

# The same stack with other names for the Bidirectionals' inner layers: Keras names a direction
# "forward_" + the inner layer's name ("forward_encoder_lstm"), which the model cannot know.
renamed = mf.build(mf.seq("sequence_stack", (5,),
                          lambda: L.Embedding(7, 4, name="embedding"),
                          lambda: L.LSTM(4, return_sequences=True, name="lstm"),
                          lambda: L.GRU(3, reset_after=False, return_sequences=True, name="gru"),
                          lambda: L.SimpleRNN(3, return_sequences=True, name="simple_rnn"),
                          lambda: L.Bidirectional(L.GRU(2, return_sequences=True, name="encoder_gru"), merge_mode="mul",
                                                  name="bidirectional"),
                          lambda: L.GRU(4, return_sequences=True, name="gru_1"),
                          lambda: L.Bidirectional(L.LSTM(3, name="encoder_lstm"), name="bidirectional_1")), "float32")
renamed.set_weights(models["sequence_stack"].get_weights())
renamed.save_weights(os.path.join(HERE, "sequence_stack_renamed.weights.h5"))
print("wrote sequence_stack_renamed")

# Keras's in-cell dropout (numerics fixture `cell_dropout`): the config keeps dropout and
# recurrent_dropout, but not the implementation Keras 3 forces with recurrent_dropout.
m = mf.build(sf.CASES["cell_dropout"]["build"], "float32")
mf.load_weights(m, dict(np.load(os.path.join(NUMERICS, "cell_dropout", "weights.npz"))))
m.save(os.path.join(HERE, "cell_dropout.keras"))
print("wrote cell_dropout.keras")
