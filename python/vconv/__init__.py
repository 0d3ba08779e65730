"""vconv: voice conversion, from Python, over the C library (libvconv.so.0) through ctypes.

    import vconv
    model = vconv.Model()                       # the bundled model (or Model("my.safetensors"))
    out = model.convert("source.wav", "reference.wav", match=0.7)
    vconv.save("out.wav", out, model.sample_rate)

Audio goes in as a file path, a (samples, rate) pair, or a 1-D array at the model's rate
(model.sample_rate); it comes back as a float32 numpy array at the model's rate. A float32
array is handed to the library as it is; others are converted once. Arrays the library
returns are used in place and freed by the library when numpy lets go of them.

The library is found through $VCONV_LIBRARY (a path), then beside this file, then in the
source tree's build/ folder (a package used from a checkout), then by the system's loader
(an installed libvconv.so.0). Errors raise vconv.Error, with the library's status code and its
message. Library warnings become Python warnings (vconv.VconvWarning).
"""

import ctypes
import ctypes.util
import json
import os
import threading
import warnings
import weakref

import numpy as np

__version__ = "0.1.0"
__all__ = ["Error", "VconvWarning", "Model", "Voice", "load", "save", "library_version"]

# vc_status values (include/vconv/vconv.h)
OK, ERR_ARG, ERR_NOMEM, ERR_IO, ERR_FORMAT, ERR_VERSION, ERR_SHAPE, ERR_AUDIO, ERR_INTERNAL = (
    0, -1, -2, -3, -4, -5, -6, -7, -8)

_SONAME = "libvconv.so.0"


def _library_candidates():
    env = os.environ.get("VCONV_LIBRARY")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    return [os.path.join(here, _SONAME),
            os.path.join(here, os.pardir, os.pardir, "build", _SONAME),
            _SONAME]


def _open_library():
    tried = []
    for path in _library_candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (missing)")
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            tried.append(str(e))
    raise ImportError("vconv: libvconv.so.0 not found; set VCONV_LIBRARY to its path. Tried: "
                      + "; ".join(tried))


_lib = _open_library()
_libc = ctypes.CDLL(ctypes.util.find_library("c"))
_libc.free.argtypes = [ctypes.c_void_p]
_libc.free.restype = None

# ------------------------------------------------------------------ the C types used here
# Their layouts are checked against the C compiler's by tests/python/test_vconv.py.

_progress_fn = ctypes.CFUNCTYPE(None, ctypes.c_double, ctypes.c_void_p)


class _Audio(ctypes.Structure):
    _fields_ = [("samples", ctypes.POINTER(ctypes.c_float)),
                ("n_samples", ctypes.c_size_t),
                ("sample_rate", ctypes.c_int)]


class _Voice(ctypes.Structure):
    _fields_ = [("embedding", ctypes.POINTER(ctypes.c_float)),
                ("dim", ctypes.c_int),
                ("logf0_mean", ctypes.c_double),
                ("logf0_std", ctypes.c_double),
                ("voiced_frames", ctypes.c_int),
                ("seconds", ctypes.c_double),
                ("log_mag_std", ctypes.POINTER(ctypes.c_float)),
                ("n_bins", ctypes.c_int),
                ("frames", ctypes.c_void_p),
                ("n_frames", ctypes.c_int)]


class _VocoderParams(ctypes.Structure):
    _fields_ = [("iters", ctypes.c_int),
                ("momentum", ctypes.c_float),
                ("seed", ctypes.c_uint64),
                ("progress", _progress_fn),
                ("progress_user", ctypes.c_void_p)]


class _ConvertParams(ctypes.Structure):
    _fields_ = [("auto_pitch", ctypes.c_int),
                ("pitch_shift", ctypes.c_float),
                ("harmonic", ctypes.c_int),
                ("world_vocoder", ctypes.c_int),
                ("match_dynamics", ctypes.c_int),
                ("match", ctypes.c_float),
                ("match_k", ctypes.c_int),
                ("match_space", ctypes.c_int),
                ("retrieval", ctypes.c_int),
                ("content_blend", ctypes.c_float),
                ("match_decoded", ctypes.c_float),
                ("match_residual", ctypes.c_float),
                ("vocoder", _VocoderParams),
                ("chunk_seconds", ctypes.c_double),
                ("progress", _progress_fn),
                ("progress_user", ctypes.c_void_p)]


_STRUCTS = {"vc_audio": _Audio, "vc_voice": _Voice, "vc_vocoder_params": _VocoderParams,
            "vc_convert_params": _ConvertParams}


def _declare(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_P = ctypes.c_void_p
_int, _double, _char_p, _size_t = ctypes.c_int, ctypes.c_double, ctypes.c_char_p, ctypes.c_size_t
_declare("vc_strerror", _char_p, _int)
_declare("vc_version", _char_p)
_log_fn = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
_declare("vc_log_set", None, _log_fn, _P)
_declare("vc_default_model_path", _int, _char_p, _size_t)
_declare("vc_model_load", _int, _char_p, ctypes.POINTER(_P))
_declare("vc_model_free", None, _P)
_declare("vc_model_sample_rate", _int, _P)
_declare("vc_model_codebook_size", _int, _P)
_declare("vc_model_speaker_dim", _int, _P)
_declare("vc_model_codes_per_second", _double, _P)
_declare("vc_model_n_params", _size_t, _P)
_declare("vc_model_config_json", _int, _P, ctypes.POINTER(_P))
_declare("vc_model_meta_count", _int, _P)
_declare("vc_model_meta_key", _char_p, _P, _int)
_declare("vc_model_meta_value", _char_p, _P, _int)
_declare("vc_audio_load", _int, _char_p, _int, ctypes.POINTER(_Audio), _P)
_declare("vc_audio_load_audible", _int, _char_p, _int, ctypes.POINTER(_Audio), _P)
_declare("vc_audio_save", _int, _char_p, ctypes.POINTER(_Audio), _int)
_declare("vc_audio_free", None, ctypes.POINTER(_Audio))
_declare("vc_voice_from_audio", _int, _P, ctypes.POINTER(_Audio), _int, ctypes.POINTER(_Voice))
_declare("vc_voice_free", None, ctypes.POINTER(_Voice))
_declare("vc_convert_default_params", _ConvertParams)
_declare("vc_convert", _int, _P, ctypes.POINTER(_Audio), ctypes.POINTER(_Voice),
         ctypes.POINTER(_ConvertParams), ctypes.POINTER(_Audio))
_declare("vc_encode", _int, _P, ctypes.POINTER(_Audio), _double,
         ctypes.POINTER(ctypes.POINTER(ctypes.c_int)), ctypes.POINTER(_int), ctypes.POINTER(_int))

# ------------------------------------------------------------------ errors and the log sink


class Error(Exception):
    """A library call failed. status: the vc_status code (vconv.ERR_IO, ...); message: what the
    library logged about it, else vc_strerror(status)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class VconvWarning(UserWarning):
    """A warning the library logged (a short reference, a voice without pitch, ...)."""


# The library reports details of a failure through its log sink, on the failing call's thread:
# the last error logged on this thread becomes the message of the Error raised after the call.
_logged = threading.local()


def _on_log(level, msg, user):
    text = msg.decode("utf-8", "replace")
    if level == 0:
        _logged.error = text
    elif level == 1:
        warnings.warn(text, VconvWarning, stacklevel=3)


_log_callback = _log_fn(_on_log)  # kept alive for as long as the module is
_lib.vc_log_set(_log_callback, None)


def _call(status, what):
    """Raises Error for a failed call; clears the logged error either way."""
    logged = getattr(_logged, "error", None)
    _logged.error = None
    if status != OK:
        reason = logged or _lib.vc_strerror(status).decode()
        raise Error(status, f"{what}: {reason}" if what and logged is None else reason)


def _begin():
    _logged.error = None


def library_version():
    """The C library's version (vc_version)."""
    return _lib.vc_version().decode()


# ------------------------------------------------------------------ arrays and audio


def _owned_array(pointer, n, ctype, dtype, free):
    """n values the library allocated at pointer as a numpy array without a copy; free(pointer)
    runs when the last array using the memory is gone."""
    if n == 0:
        free()
        return np.zeros(0, dtype)
    buf = (ctype * n).from_address(ctypes.addressof(pointer.contents))
    weakref.finalize(buf, free)
    return np.frombuffer(buf, dtype=dtype)


def _take_audio(a):
    """The samples of a vc_audio the library filled, handed over to numpy."""
    owner = _Audio(a.samples, a.n_samples, a.sample_rate)
    return _owned_array(a.samples, a.n_samples, ctypes.c_float, np.float32,
                        lambda: _lib.vc_audio_free(ctypes.byref(owner)))


def _path(p):
    return os.fsencode(p)


class _Input:
    """One audio argument as a vc_audio the library reads: a file loaded by the library (freed
    with it), or a float32 array's memory (kept alive with it)."""

    def __init__(self, audio, rate, what):
        self.c = _Audio()
        self.owned = False
        if isinstance(audio, (str, bytes, os.PathLike)):
            _begin()
            _call(_lib.vc_audio_load_audible(_path(audio), rate, ctypes.byref(self.c), None),
                  os.fsdecode(audio))
            self.owned = True
            return
        if isinstance(audio, tuple):
            if len(audio) != 2:
                raise TypeError(f"{what}: a (samples, rate) pair, a path or an array")
            audio, rate = audio
        self.array = np.ascontiguousarray(audio, dtype=np.float32)
        if self.array.ndim != 1:
            raise ValueError(f"{what}: mono audio, a 1-D array (got shape {self.array.shape})")
        self.c.samples = self.array.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        self.c.n_samples = self.array.size
        self.c.sample_rate = int(rate)

    def free(self):
        if self.owned:
            _lib.vc_audio_free(ctypes.byref(self.c))
            self.owned = False


def load(path, rate=None):
    """An audio file (any format libsndfile reads) as (samples, rate): mono float32, at the
    file's rate or resampled to rate."""
    a = _Audio()
    _begin()
    _call(_lib.vc_audio_load(_path(path), int(rate or 0), ctypes.byref(a), None),
          os.fsdecode(path))
    return _take_audio(a), a.sample_rate


def save(path, samples, rate, float32=False):
    """Writes mono audio, the container from the extension (.wav, .flac, .ogg, ...), 16-bit PCM
    or 32-bit float; through a temp file renamed into place."""
    a = _Input((samples, rate), rate, "samples")
    _begin()
    _call(_lib.vc_audio_save(_path(path), ctypes.byref(a.c), 1 if float32 else 0),
          os.fsdecode(path))


# ------------------------------------------------------------------ model and voice

_VOCODERS = {"harmonic": (0, 1), "spectrum": (0, 0), "world": (1, 0)}  # world_vocoder, harmonic
_SPACES = {"z": 0, "hidden": 1}


def _convert_params(options):
    """vc_convert_params from keyword options named as vconv convert's command-line options."""
    p = _lib.vc_convert_default_params()
    for key, value in options.items():
        if key == "pitch_shift":
            if value is not None:
                p.auto_pitch, p.pitch_shift = 0, float(value)
        elif key == "vocoder":
            if value not in _VOCODERS:
                raise ValueError(f"vocoder: one of {', '.join(_VOCODERS)} (got {value!r})")
            p.world_vocoder, p.harmonic = _VOCODERS[value]
        elif key == "match":
            p.match = float(value)
        elif key == "match_k":
            p.match_k = int(value)
        elif key == "match_space":
            if value not in _SPACES:
                raise ValueError(f"match_space: one of {', '.join(_SPACES)} (got {value!r})")
            p.match_space = _SPACES[value]
        elif key == "retrieval":
            p.retrieval = 1 if value else 0
        elif key == "content_blend":
            p.content_blend = float(value)
        elif key == "match_decoded":
            p.match_decoded = float(value)
        elif key == "match_residual":
            p.match_residual = float(value)
        elif key == "model_dynamics":
            p.match_dynamics = 0 if value else 1
        elif key == "iters":
            p.vocoder.iters = int(value)
        elif key == "seed":
            p.vocoder.seed = int(value)
        elif key == "chunk":
            p.chunk_seconds = float(value)
        else:
            raise TypeError(f"convert: unknown option {key!r}")
    return p


class Voice:
    """A target voice: the speaker embedding, pitch range and frames of one or more references
    (Model.voice). Used with the model that made it."""

    def __init__(self, model, c):
        self._model = model  # the voice is read with its model
        self._c = c

    @property
    def seconds(self):
        """Reference speech analysed, after trimming."""
        return self._c.seconds

    @property
    def f0_hz(self):
        """The voice's mean pitch (geometric), or None when no frame was voiced."""
        return float(np.exp(self._c.logf0_mean)) if self._c.voiced_frames > 0 else None

    @property
    def embedding(self):
        """The speaker embedding, a copy (float32, model.speaker_dim values)."""
        return np.ctypeslib.as_array(self._c.embedding, (self._c.dim,)).copy()

    def close(self):
        if self._c is not None:
            _lib.vc_voice_free(ctypes.byref(self._c))
            self._c = None

    def __del__(self):
        self.close()


class Model:
    """A trained model, read-only once loaded (several threads may convert with it at once).
    path: a .safetensors model file; None: the bundled model ($VCONV_MODEL when set)."""

    def __init__(self, path=None):
        self._h = _P()
        if path is None:
            buf = ctypes.create_string_buffer(4096)
            status = _lib.vc_default_model_path(buf, len(buf))
            if status == ERR_ARG:
                raise Error(status, "the default model's path is too long")
            path = os.fsdecode(buf.value)  # a missing one fails below, naming where it was sought
        self.path = os.fsdecode(path)
        _begin()
        _call(_lib.vc_model_load(_path(path), ctypes.byref(self._h)), self.path)

    def close(self):
        if self._h:
            _lib.vc_model_free(self._h)
            self._h = _P()

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _handle(self):
        if not self._h:
            raise ValueError("the model is closed")
        return self._h

    @property
    def sample_rate(self):
        """The rate of the model's analysis and of its output, in Hz."""
        return _lib.vc_model_sample_rate(self._handle())

    @property
    def codebook_size(self):
        return _lib.vc_model_codebook_size(self._handle())

    @property
    def speaker_dim(self):
        return _lib.vc_model_speaker_dim(self._handle())

    @property
    def codes_per_second(self):
        return _lib.vc_model_codes_per_second(self._handle())

    @property
    def n_params(self):
        return _lib.vc_model_n_params(self._handle())

    @property
    def config(self):
        """The architecture (every config field) as a dict."""
        out = _P()
        _begin()
        _call(_lib.vc_model_config_json(self._handle(), ctypes.byref(out)), "config")
        try:
            return json.loads(ctypes.string_at(out).decode())
        finally:
            _libc.free(out)

    @property
    def meta(self):
        """The file's other metadata (training provenance, ...) as a dict of strings."""
        h = self._handle()
        return {_lib.vc_model_meta_key(h, i).decode(): _lib.vc_model_meta_value(h, i).decode()
                for i in range(_lib.vc_model_meta_count(h))}

    def _inputs(self, audios, what):
        return [_Input(a, self.sample_rate, what) for a in audios]

    def voice(self, references):
        """The voice of one or more references of one speaker (each a path, a (samples, rate)
        pair or an array at the model's rate), pooled."""
        if not isinstance(references, list):
            references = [references]
        if not references:
            raise ValueError("voice: at least one reference")
        refs = self._inputs(references, "reference")
        try:
            arr = (_Audio * len(refs))(*[r.c for r in refs])
            c = _Voice()
            _begin()
            _call(_lib.vc_voice_from_audio(self._handle(), arr, len(refs), ctypes.byref(c)),
                  "reference")
            return Voice(self, c)
        finally:
            for r in refs:
                r.free()

    def convert(self, source, reference, **options):
        """source's words in reference's voice: float32 samples at model.sample_rate with the
        source's duration. reference: a Voice (Model.voice), or what Model.voice takes.
        options, as vconv convert's: pitch_shift (semitones; the source's own pitch moved, instead
        of the reference's key), vocoder ("world", "harmonic", "spectrum"), match (0..1),
        match_k, match_space ("hidden", "z"), match_decoded (0..1), match_residual (0..1),
        retrieval (bool), content_blend (0 codes .. 1 continuous), model_dynamics (bool), iters,
        seed, chunk (seconds)."""
        params = _convert_params(options)
        voice = reference if isinstance(reference, Voice) else self.voice(reference)
        if voice._model is not self:
            raise ValueError("convert: the voice was made with another model")
        src = _Input(source, self.sample_rate, "source")
        try:
            out = _Audio()
            _begin()
            _call(_lib.vc_convert(self._handle(), ctypes.byref(src.c), ctypes.byref(voice._c),
                                  ctypes.byref(params), ctypes.byref(out)), "source")
            return _take_audio(out)
        finally:
            src.free()
            if voice is not reference:
                voice.close()

    def encode(self, audio, chunk=10.0):
        """The content codes of audio's speech (int32, one per two frames, model.codes_per_second
        of them per second), as vconv convert computes them."""
        a = _Input(audio, self.sample_rate, "audio")
        try:
            codes = ctypes.POINTER(ctypes.c_int)()
            n = ctypes.c_int()
            _begin()
            _call(_lib.vc_encode(self._handle(), ctypes.byref(a.c), float(chunk),
                                 ctypes.byref(codes), ctypes.byref(n), None), "audio")
            pointer = ctypes.cast(codes, ctypes.c_void_p).value
            return _owned_array(codes, n.value, ctypes.c_int, np.intc,
                                lambda: _libc.free(pointer))
        finally:
            a.free()
