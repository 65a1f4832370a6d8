"""Fixed-point audio/vibration front end for runtime_c/dsp: table generation (tables), feature
configurations and presets (frontend, spectral), a bit-exact numpy model of the C (model), float
references (ref), C emission of configured tables (emit), the C on the host through ctypes (host)
and on an emulated Cortex-M (target).

    from tinykiln.dsp import frontend, host
    t = frontend.build(frontend.preset("tf_mfcc", scale=0.25, zero_point=0))
    feats = host.FrontEndHost(host.DspLib(), t).run_signal(int16_audio)   # int8 (frames, 13)
"""
