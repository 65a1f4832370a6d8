"""The .tflite reader and writer: round trips, and only ModelError on damaged files."""
import numpy as np
import pytest

from conftest import shared_model
from tinykiln.errors import ModelError
from tinykiln.frontend.tflite_import import parse_tflite
from tinykiln.frontend.tflite_writer import write_tflite


def graphs_equal(a, b):
    assert len(a.tensors) == len(b.tensors) and len(a.ops) == len(b.ops)
    for ta, tb in zip(a.tensors, b.tensors):
        assert (ta.name, ta.shape, ta.dtype) == (tb.name, tb.shape, tb.dtype)
        assert (ta.quant is None) == (tb.quant is None)
        if ta.quant:
            assert np.array_equal(np.float32(ta.quant.scale), np.float32(tb.quant.scale))
            assert ta.quant.zero_point == tb.quant.zero_point and ta.quant.axis == tb.quant.axis
        assert (ta.data is None) == (tb.data is None)
        if ta.data is not None:
            assert np.array_equal(ta.data, tb.data)
    for oa, ob in zip(a.ops, b.ops):
        assert (oa.opcode, oa.inputs, oa.outputs, oa.options) == \
            (ob.opcode, ob.inputs, ob.outputs, ob.options)
    assert (a.inputs, a.outputs) == (b.inputs, b.outputs)


@pytest.mark.parametrize("name", ["kws_ref_model.tflite", "ad01_int8.tflite"])
def test_round_trip_through_writer(name):
    g = parse_tflite(shared_model(name).read_bytes())
    graphs_equal(g, parse_tflite(write_tflite(g)))


@pytest.mark.parametrize("name", ["kws_ref_model.tflite", "ad01_int8.tflite"])
def test_damaged_files_raise_model_error_only(name):
    data = shared_model(name).read_bytes()
    rng = np.random.default_rng(11)
    for n in rng.integers(0, len(data), 60):
        with pytest.raises(ModelError):
            parse_tflite(data[:n])
    for _ in range(200):
        buf = bytearray(data)
        for pos in rng.integers(0, 2048, 4):    # the table part of the file
            buf[pos] = rng.integers(0, 256)
        try:
            parse_tflite(bytes(buf))
        except ModelError:
            pass
