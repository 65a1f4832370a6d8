"""Code generation: the C library of a lowered, planned model, through the jinja2 templates."""
