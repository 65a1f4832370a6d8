"""Enumerations of the TFLite flatbuffer schema (schema.fbs) that the importer and writer need.

Values are the schema's; only names are kept here, indexed by their enum value."""

BUILTIN_OPERATORS = (
    'ADD', 'AVERAGE_POOL_2D', 'CONCATENATION', 'CONV_2D',
    'DEPTHWISE_CONV_2D', 'DEPTH_TO_SPACE', 'DEQUANTIZE', 'EMBEDDING_LOOKUP',
    'FLOOR', 'FULLY_CONNECTED', 'HASHTABLE_LOOKUP', 'L2_NORMALIZATION',
    'L2_POOL_2D', 'LOCAL_RESPONSE_NORMALIZATION', 'LOGISTIC', 'LSH_PROJECTION',
    'LSTM', 'MAX_POOL_2D', 'MUL', 'RELU',
    'RELU_N1_TO_1', 'RELU6', 'RESHAPE', 'RESIZE_BILINEAR',
    'RNN', 'SOFTMAX', 'SPACE_TO_DEPTH', 'SVDF',
    'TANH', 'CONCAT_EMBEDDINGS', 'SKIP_GRAM', 'CALL',
    'CUSTOM', 'EMBEDDING_LOOKUP_SPARSE', 'PAD', 'UNIDIRECTIONAL_SEQUENCE_RNN',
    'GATHER', 'BATCH_TO_SPACE_ND', 'SPACE_TO_BATCH_ND', 'TRANSPOSE',
    'MEAN', 'SUB', 'DIV', 'SQUEEZE',
    'UNIDIRECTIONAL_SEQUENCE_LSTM', 'STRIDED_SLICE', 'BIDIRECTIONAL_SEQUENCE_RNN', 'EXP',
    'TOPK_V2', 'SPLIT', 'LOG_SOFTMAX', 'DELEGATE',
    'BIDIRECTIONAL_SEQUENCE_LSTM', 'CAST', 'PRELU', 'MAXIMUM',
    'ARG_MAX', 'MINIMUM', 'LESS', 'NEG',
    'PADV2', 'GREATER', 'GREATER_EQUAL', 'LESS_EQUAL',
    'SELECT', 'SLICE', 'SIN', 'TRANSPOSE_CONV',
    'SPARSE_TO_DENSE', 'TILE', 'EXPAND_DIMS', 'EQUAL',
    'NOT_EQUAL', 'LOG', 'SUM', 'SQRT',
    'RSQRT', 'SHAPE', 'POW', 'ARG_MIN',
    'FAKE_QUANT', 'REDUCE_PROD', 'REDUCE_MAX', 'PACK',
    'LOGICAL_OR', 'ONE_HOT', 'LOGICAL_AND', 'LOGICAL_NOT',
    'UNPACK', 'REDUCE_MIN', 'FLOOR_DIV', 'REDUCE_ANY',
    'SQUARE', 'ZEROS_LIKE', 'FILL', 'FLOOR_MOD',
    'RANGE', 'RESIZE_NEAREST_NEIGHBOR', 'LEAKY_RELU', 'SQUARED_DIFFERENCE',
    'MIRROR_PAD', 'ABS', 'SPLIT_V', 'UNIQUE',
    'CEIL', 'REVERSE_V2', 'ADD_N', 'GATHER_ND',
    'COS', 'WHERE', 'RANK', 'ELU',
    'REVERSE_SEQUENCE', 'MATRIX_DIAG', 'QUANTIZE', 'MATRIX_SET_DIAG',
    'ROUND', 'HARD_SWISH', 'IF', 'WHILE',
    'NON_MAX_SUPPRESSION_V4', 'NON_MAX_SUPPRESSION_V5', 'SCATTER_ND', 'SELECT_V2',
    'DENSIFY', 'SEGMENT_SUM', 'BATCH_MATMUL', 'PLACEHOLDER_FOR_GREATER_OP_CODES',
    'CUMSUM', 'CALL_ONCE', 'BROADCAST_TO', 'RFFT2D',
    'CONV_3D', 'IMAG', 'REAL', 'COMPLEX_ABS',
    'HASHTABLE', 'HASHTABLE_FIND', 'HASHTABLE_IMPORT', 'HASHTABLE_SIZE',
    'REDUCE_ALL', 'CONV_3D_TRANSPOSE', 'VAR_HANDLE', 'READ_VARIABLE',
    'ASSIGN_VARIABLE', 'BROADCAST_ARGS', 'RANDOM_STANDARD_NORMAL', 'BUCKETIZE',
    'RANDOM_UNIFORM', 'MULTINOMIAL', 'GELU', 'DYNAMIC_UPDATE_SLICE',
    'RELU_0_TO_1', 'UNSORTED_SEGMENT_PROD', 'UNSORTED_SEGMENT_MAX', 'UNSORTED_SEGMENT_SUM',
    'ATAN2', 'UNSORTED_SEGMENT_MIN', 'SIGN', 'BITCAST',
    'BITWISE_XOR', 'RIGHT_SHIFT', 'STABLEHLO_LOGISTIC', 'STABLEHLO_ADD',
    'STABLEHLO_DIVIDE', 'STABLEHLO_MULTIPLY', 'STABLEHLO_MAXIMUM', 'STABLEHLO_RESHAPE',
    'STABLEHLO_CLAMP', 'STABLEHLO_CONCATENATE', 'STABLEHLO_BROADCAST_IN_DIM', 'STABLEHLO_CONVOLUTION',
    'STABLEHLO_SLICE', 'STABLEHLO_CUSTOM_CALL', 'STABLEHLO_REDUCE', 'STABLEHLO_ABS',
    'STABLEHLO_AND', 'STABLEHLO_COSINE', 'STABLEHLO_EXPONENTIAL', 'STABLEHLO_FLOOR',
    'STABLEHLO_LOG', 'STABLEHLO_MINIMUM', 'STABLEHLO_NEGATE', 'STABLEHLO_OR',
    'STABLEHLO_POWER', 'STABLEHLO_REMAINDER', 'STABLEHLO_RSQRT', 'STABLEHLO_SELECT',
    'STABLEHLO_SUBTRACT', 'STABLEHLO_TANH', 'STABLEHLO_SCATTER', 'STABLEHLO_COMPARE',
    'STABLEHLO_CONVERT', 'STABLEHLO_DYNAMIC_SLICE', 'STABLEHLO_DYNAMIC_UPDATE_SLICE', 'STABLEHLO_PAD',
    'STABLEHLO_IOTA', 'STABLEHLO_DOT_GENERAL', 'STABLEHLO_REDUCE_WINDOW', 'STABLEHLO_SORT',
    'STABLEHLO_WHILE', 'STABLEHLO_GATHER', 'STABLEHLO_TRANSPOSE', 'DILATE',
    'STABLEHLO_RNG_BIT_GENERATOR', 'REDUCE_WINDOW', 'STABLEHLO_COMPOSITE', 'STABLEHLO_SHIFT_LEFT',
    'STABLEHLO_CBRT', 'STABLEHLO_CASE',
)

TENSOR_TYPES = ('float32', 'float16', 'int32', 'uint8', 'int64', 'string', 'bool', 'int16',
                'complex64', 'int8', 'float64', 'complex128', 'uint64', 'resource', 'variant', 'uint32',
                'uint16', 'int4', 'bfloat16', 'int2', 'uint4', 'float8_e4m3fn', 'float8_e5m2')

# BuiltinOptions union tags used by the writer
BUILTIN_OPTIONS = {
    'Conv2DOptions': 1,
    'DepthwiseConv2DOptions': 2,
    'Pool2DOptions': 5,
    'FullyConnectedOptions': 8,
    'SoftmaxOptions': 9,
    'ConcatenationOptions': 10,
    'AddOptions': 11,
    'ReshapeOptions': 17,
    'MulOptions': 21,
    'PadOptions': 22,
    'ReducerOptions': 27,
    'SqueezeOptions': 30,
    'DequantizeOptions': 38,
    'QuantizeOptions': 89,
    'HardSwishOptions': 91,
    'PadV2Options': 43,
}

PADDING = ("SAME", "VALID")
ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT")

# Builtin options tables, per op: (field name, kind, default) in schema slot order, and the union tag.
# kinds: u8/i32/f32/bool scalars, "vi32" a vector of int32, "pad"/"act" enums stored as u8.
_POOL = [("padding", "pad", "SAME"), ("stride_w", "i32", 0), ("stride_h", "i32", 0),
         ("filter_width", "i32", 0), ("filter_height", "i32", 0),
         ("fused_activation_function", "act", "NONE")]
OPTIONS = {
    "CONV_2D": ("Conv2DOptions", [
        ("padding", "pad", "SAME"), ("stride_w", "i32", 0), ("stride_h", "i32", 0),
        ("fused_activation_function", "act", "NONE"), ("dilation_w_factor", "i32", 1),
        ("dilation_h_factor", "i32", 1)]),
    "DEPTHWISE_CONV_2D": ("DepthwiseConv2DOptions", [
        ("padding", "pad", "SAME"), ("stride_w", "i32", 0), ("stride_h", "i32", 0),
        ("depth_multiplier", "i32", 0), ("fused_activation_function", "act", "NONE"),
        ("dilation_w_factor", "i32", 1), ("dilation_h_factor", "i32", 1)]),
    "FULLY_CONNECTED": ("FullyConnectedOptions", [
        ("fused_activation_function", "act", "NONE"), ("weights_format", "u8", 0),
        ("keep_num_dims", "bool", False), ("asymmetric_quantize_inputs", "bool", False)]),
    "AVERAGE_POOL_2D": ("Pool2DOptions", _POOL),
    "MAX_POOL_2D": ("Pool2DOptions", _POOL),
    "ADD": ("AddOptions", [("fused_activation_function", "act", "NONE"),
                           ("pot_scale_int16", "bool", True)]),
    "MUL": ("MulOptions", [("fused_activation_function", "act", "NONE")]),
    "MEAN": ("ReducerOptions", [("keep_dims", "bool", False)]),
    "RESHAPE": ("ReshapeOptions", [("new_shape", "vi32", None)]),
    "SQUEEZE": ("SqueezeOptions", [("squeeze_dims", "vi32", None)]),
    "SOFTMAX": ("SoftmaxOptions", [("beta", "f32", 0.0)]),
    "CONCATENATION": ("ConcatenationOptions", [("axis", "i32", 0),
                                               ("fused_activation_function", "act", "NONE")]),
    "PAD": ("PadOptions", []),
    "QUANTIZE": ("QuantizeOptions", []),
    "DEQUANTIZE": ("DequantizeOptions", []),
    "HARD_SWISH": ("HardSwishOptions", []),
}
