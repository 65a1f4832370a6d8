"""Front ends: read .tflite files, write them, build models in code, convert Keras models to int8."""
