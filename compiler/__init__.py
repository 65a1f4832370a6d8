"""tinykiln: compile trained int8 models into self-contained C for microcontrollers."""
__version__ = "0.1.0"
