/* vconv: voice conversion in C. The whole public API.
 *
 * Conventions
 * - Every fallible function returns a vc_status (VC_OK == 0) and hands objects back through an
 *   out-pointer; vc_strerror() explains a status in one line.
 * - Objects are opaque handles with _init/_free pairs; _free(NULL) is a no-op.
 * - Spectral arrays are frame-major: one frame's bins are contiguous, (T, F) for magnitudes with
 *   F = n_fft/2 + 1 bins and (T, M) for mel bands. T always comes from vc_frontend_n_frames().
 * - Audio is mono float in [-1, 1] at an explicit sample rate.
 * - No function writes to stdout or stderr except through the log sink (vc_log_set).
 */
#ifndef VCONV_H
#define VCONV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VC_VERSION_STRING "0.1.0"

#if defined(__GNUC__)
#define VC_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define VC_WARN_UNUSED
#endif

typedef enum vc_status {
    VC_OK = 0,
    VC_ERR_ARG = -1,     /* invalid argument (NULL, out of range) */
    VC_ERR_NOMEM = -2,   /* allocation failed */
    VC_ERR_IO = -3,      /* file could not be opened, read or written */
    VC_ERR_FORMAT = -4,  /* file is not in a format we can read, or is corrupt */
    VC_ERR_VERSION = -5, /* file format version not supported */
    VC_ERR_SHAPE = -6,   /* tensor shape or size mismatch */
    VC_ERR_AUDIO = -7,   /* audio content unusable (empty, NaN/Inf, absurd size) */
    VC_ERR_INTERNAL = -8 /* a library (FFTW, soxr) failed unexpectedly */
} vc_status;

/* One line describing a status (never NULL, also for unknown codes). */
const char *vc_strerror(int status);
const char *vc_version(void);

/* Log sink. Messages from the library (details of a failed load, warnings) go here; the default
 * writes "vconv: <msg>" to stderr. level: 0 error, 1 warning, 2 info, 3 debug. */
typedef void (*vc_log_fn)(int level, const char *msg, void *user);
void vc_log_set(vc_log_fn fn, void *user);

/* Threads used by OpenMP regions and OpenBLAS (process-wide; call once at start-up). */
void vc_set_num_threads(int n);

/* The folder of the bundled data: the default model (vconv-default.safetensors) and, when
 * installed, the sample clips (samples/). First found: PREFIX/share/vconv of the install that
 * holds this library (found from the library's own file, so a moved prefix works), the source
 * tree's samples/ for a build used in place, the install folder the library was built for
 * (e.g. /usr/share/vconv). VC_ERR_IO when none exists (buf then holds the last), VC_ERR_ARG
 * when buf is NULL or size 0. */
VC_WARN_UNUSED vc_status vc_data_dir(char *buf, size_t size);
/* The model used when none is named: $VCONV_MODEL when set, else vc_data_dir's
 * vconv-default.safetensors. VC_OK when it is readable, VC_ERR_IO when not (buf still holds the
 * path, for the message), VC_ERR_ARG when it does not fit in size. */
VC_WARN_UNUSED vc_status vc_default_model_path(char *buf, size_t size);

/* ---------------------------------------------------------------- audio */

typedef struct vc_audio {
    float *samples; /* (n_samples) mono */
    size_t n_samples;
    int sample_rate;
} vc_audio;

typedef struct vc_audio_info {
    int file_rate;       /* sample rate stored in the file */
    int channels;        /* channels in the file (downmixed to mono on load) */
    int64_t file_frames; /* frames in the file at file_rate */
    char format[64];     /* e.g. "WAV PCM 16-bit", "FLAC PCM 24-bit" */
} vc_audio_info;

/* Read any format libsndfile reads, downmix to mono, resample (soxr, high quality) to
 * sample_rate (0 keeps the file's rate). info may be NULL. Rejects missing files, directories,
 * empty files, corrupt headers, non-finite samples and absurd sizes with a status and a log line;
 * *out is untouched on failure. Also rejects, saying what was found: a WAV whose header declares
 * less audio than follows it or a sample format its frame size contradicts; channels that cancel
 * in the downmix; a float file with a burst far above full scale. A float file out of scale
 * throughout is scaled to a 0 dBFS peak with a warning. See docs/robustness.md. */
VC_WARN_UNUSED vc_status vc_audio_load(const char *path, int sample_rate, vc_audio *out,
                                       vc_audio_info *info);

/* At or below this active level (vc_level.active_dbfs) an input holds nothing to convert. */
#define VC_AUDIO_SILENCE_DBFS (-60.0)

/* vc_audio_load for an input that must hold sound (a conversion's source or reference): also
 * refuses (VC_ERR_AUDIO) a file whose active level at its own rate is at or below
 * VC_AUDIO_SILENCE_DBFS. The level is measured while reading, before anything is stored or
 * resampled, so refusing a long silent file costs a few MB. */
VC_WARN_UNUSED vc_status vc_audio_load_audible(const char *path, int sample_rate, vc_audio *out,
                                               vc_audio_info *info);
void vc_audio_free(vc_audio *a); /* frees samples, zeroes the struct */

typedef enum vc_audio_encoding { VC_AUDIO_PCM16 = 0, VC_AUDIO_FLOAT = 1 } vc_audio_encoding;

/* Write an audio file through a temp file in the same folder renamed into place, so a failed or
 * interrupted write never leaves a partial file at path. The container comes from path's
 * extension, case-insensitive: any libsndfile writes (wav, flac, aiff/aif, au, caf, w64, rf64,
 * ...; ogg/oga is Vorbis, opus is Ogg Opus); no extension is WAV. PCM16 clips to [-1, 1].
 * VC_ERR_ARG for an extension libsndfile cannot write, or an encoding or rate the container
 * cannot hold (FLAC and the lossy codecs store no floats). */
VC_WARN_UNUSED vc_status vc_audio_save(const char *path, const vc_audio *a,
                                       vc_audio_encoding encoding);
/* VC_OK when vc_audio_save could write a file named path with this encoding and sample rate,
 * else VC_ERR_ARG with a log line saying why. Touches no file: callers check before the work. */
VC_WARN_UNUSED vc_status vc_audio_save_check(const char *path, vc_audio_encoding encoding,
                                             int sample_rate);

/* Resample mono float audio with soxr (high quality). *out is allocated (free with free()). */
VC_WARN_UNUSED vc_status vc_audio_resample(const float *x, size_t n, int in_rate, int out_rate,
                                           float **out, size_t *n_out);

typedef struct vc_level {
    double rms_dbfs;     /* over the whole signal; -inf-safe: silence gives VC_LEVEL_FLOOR_DB */
    double peak_dbfs;    /* absolute sample peak */
    double active_dbfs;  /* RMS over active 20 ms blocks (within 40 dB of the loudest block) */
    double active_share; /* share of blocks counted as active, 0..1 */
} vc_level;
#define VC_LEVEL_FLOOR_DB (-120.0)

VC_WARN_UNUSED vc_status vc_audio_level(const float *x, size_t n, int sample_rate, vc_level *out);

/* ------------------------------------------------------------ front end */

typedef struct vc_frontend_params {
    int sample_rate;      /* Hz, default 16000 */
    int n_fft;            /* FFT size = Hann window length, default 1024 */
    int hop;              /* samples between frames, default 256 */
    int n_mels;           /* mel bands, default 80 */
    float fmin, fmax;     /* mel range in Hz, default 0..8000 */
    float f0_min, f0_max; /* F0 search range in Hz, default 60..500 */
} vc_frontend_params;

vc_frontend_params vc_frontend_default_params(void);

/* The floor of every log the front end and the model take: log(max(v, VC_LOG_FLOOR)). */
#define VC_LOG_FLOOR 1e-5f

/* Holds FFTW plans, the window and the mel filterbank. Not safe to use from two threads at once
 * (it owns scratch buffers); create one per thread (creating them in several threads at once is
 * safe). */
typedef struct vc_frontend vc_frontend;

VC_WARN_UNUSED vc_status vc_frontend_init(const vc_frontend_params *p, vc_frontend **out);
void vc_frontend_free(vc_frontend *fe);
const vc_frontend_params *vc_frontend_params_of(const vc_frontend *fe);

int vc_frontend_n_frames(const vc_frontend *fe, size_t n_samples); /* centred frames: 1 + n/hop */
int vc_frontend_n_bins(const vc_frontend *fe);                     /* F = n_fft/2 + 1 */

/* Linear STFT magnitude, (T, F). */
VC_WARN_UNUSED vc_status vc_frontend_magnitude(vc_frontend *fe, const float *x, size_t n,
                                               float *mag);
/* log(max(mel, VC_LOG_FLOOR)) of the magnitude (not power) spectrum, (T, M). */
VC_WARN_UNUSED vc_status vc_frontend_log_mel(vc_frontend *fe, const float *x, size_t n,
                                             float *log_mel);
/* Frames [t0, t0 + T) of vc_frontend_log_mel(x), bit for bit, into log_mel (T, M): analysis of
 * a long signal piece by piece. VC_ERR_ARG unless 0 <= t0 and t0 + T <= n_frames(n). */
VC_WARN_UNUSED vc_status vc_frontend_log_mel_frames(vc_frontend *fe, const float *x, size_t n,
                                                    int t0, int T, float *log_mel);
VC_WARN_UNUSED vc_status vc_frontend_log_mel_from_magnitude(vc_frontend *fe, const float *mag,
                                                            int T, float *log_mel);
/* Non-negative linear magnitude (T, F) whose mel projection best matches exp(log_mel). */
VC_WARN_UNUSED vc_status vc_frontend_mel_to_magnitude(vc_frontend *fe, const float *log_mel, int T,
                                                      float *mag);
/* F0 in Hz (0 where unvoiced) and voicing probability 0..1 per frame, both (T). */
VC_WARN_UNUSED vc_status vc_frontend_f0(vc_frontend *fe, const float *x, size_t n, float *f0,
                                        float *voicing);

/* -------------------------------------------------------------- vocoder */

/* Progress of long work: fraction done in [0, 1], called from the calling thread. */
typedef void (*vc_progress_fn)(double fraction, void *user);

typedef struct vc_vocoder_params {
    int iters;               /* Griffin-Lim iterations, default 32 */
    float momentum;          /* fast Griffin-Lim momentum (Perraudin et al. 2013), default 0.99 */
    uint64_t seed;           /* initial phase seed, default 1 */
    vc_progress_fn progress; /* called after each iteration when set, default NULL */
    void *progress_user;
} vc_vocoder_params;

vc_vocoder_params vc_vocoder_default_params(void);

/* Magnitude (T, F) -> n_samples of audio at the front end's rate (fast Griffin-Lim). */
VC_WARN_UNUSED vc_status vc_vocoder_griffin_lim(vc_frontend *fe, const float *mag, int T,
                                                const vc_vocoder_params *p, float *out,
                                                size_t n_samples);

/* Analysis then resynthesis of x (n samples at the front end's rate) into out (n): the STFT
 * magnitude, mapped through the log-mel and back when from is VC_RESYNTH_MEL (what the model's
 * mel output sounds like), then Griffin-Lim. VC_RESYNTH_WORLD instead analyses F0 (the front
 * end's tracker), a pitch-adaptive spectral envelope and band aperiodicity, and renders them
 * with the source-filter vocoder (docs/vocoder.md); p->seed seeds its noise, the Griffin-Lim
 * fields are unused. sc_db (may be NULL) receives the spectral convergence of out against x's
 * own magnitude. */
typedef enum vc_resynth_source {
    VC_RESYNTH_LINEAR = 0,
    VC_RESYNTH_MEL = 1,
    VC_RESYNTH_WORLD = 2
} vc_resynth_source;

VC_WARN_UNUSED vc_status vc_resynthesize(vc_frontend *fe, const float *x, size_t n,
                                         vc_resynth_source from, const vc_vocoder_params *p,
                                         float *out, double *sc_db);

/* Spectral convergence in dB between a target magnitude and the magnitude of audio x:
 * 20 log10(||mag(x) - target||_F / ||target||_F). Lower is better. */
VC_WARN_UNUSED vc_status vc_spectral_convergence(vc_frontend *fe, const float *target_mag, int T,
                                                 const float *x, size_t n, double *out_db);

/* ----------------------------------------------------------- conversion */

/* A trained model (vconv train), read-only once loaded. */
typedef struct vc_model vc_model;

/* Reads and validates a model file: VC_ERR_IO, VC_ERR_FORMAT (not a model, a corrupt header or
 * tensor, bad statistics), VC_ERR_VERSION (another format version), VC_ERR_SHAPE, each with a
 * log line. */
VC_WARN_UNUSED vc_status vc_model_load(const char *path, vc_model **out);
void vc_model_free(vc_model *m);
int vc_model_sample_rate(const vc_model *m); /* the rate of its front end, and of its output */
/* The front end the model was trained with (rate, FFT, hop, mels, mel and F0 ranges): analysis
 * meant to show what the model hears uses it. Zeroed for NULL. */
vc_frontend_params vc_model_frontend_params(const vc_model *m);
int vc_model_speaker_dim(const vc_model *m);
int vc_model_codebook_size(const vc_model *m);
double vc_model_codes_per_second(const vc_model *m); /* sample_rate / (2 hop) */
size_t vc_model_n_params(const vc_model *m);

/* The architecture as one JSON object (every config field; docs/model.md). malloc'd: free(). */
VC_WARN_UNUSED vc_status vc_model_config_json(const vc_model *m, char **out);

/* The file's other metadata: training provenance ("vconv.train_steps", "vconv.train_corpus",
 * "vconv.train_date", "vconv.version") and whatever an export added. i in [0, count). */
int vc_model_meta_count(const vc_model *m);
const char *vc_model_meta_key(const vc_model *m, int i);
const char *vc_model_meta_value(const vc_model *m, int i);
const char *vc_model_meta(const vc_model *m, const char *key); /* NULL when absent */

/* Writes the model (F32, or F16 when f16: half the size) with its metadata, set_kv pairs
 * (key0, value0, ...; n_set) replacing or adding entries. Keys of the config, the statistics and
 * the format version are not the caller's: VC_ERR_ARG. Temp file + rename. */
VC_WARN_UNUSED vc_status vc_model_save(const vc_model *m, const char *path, int f16,
                                       const char *const *set_kv, int n_set);

/* The target voice: a speaker embedding and a pitch range, from one or more references, and
 * every speech frame of every reference (pooled) for vc_convert's frame matching. */
typedef struct vc_voice_frames vc_voice_frames; /* opaque: the matching pool (convert/match.h) */
typedef struct vc_voice {
    float *embedding;             /* (dim) averaged over every reference, weighted by frames */
    int dim;                      /* vc_model_speaker_dim */
    double logf0_mean, logf0_std; /* natural log of F0 in Hz, over every voiced frame; both 0
                                   * when voiced_frames is 0 (no pitch found: the output then
                                   * keeps the source's pitch) */
    int voiced_frames;
    double seconds;     /* speech analysed, after trimming */
    float *log_mag_std; /* (n_bins) each bin's spread over time of the fast part of its STFT
                         * log-magnitude (of its WORLD envelope, for a model that predicts
                         * that): the spectral dynamics vc_convert's match_dynamics restores */
    int n_bins;
    vc_voice_frames *frames; /* each reference speech frame's content features (two spaces, see
                              * vc_match_space), WORLD envelope and band aperiodicity; owned,
                              * freed by vc_voice_free; NULL: the voice cannot be matched */
    int n_frames;            /* frames in the pool */
} vc_voice;

/* Each reference (any rate) is levelled, trimmed of silence and analysed. VC_ERR_AUDIO (with a
 * log line naming the reference) when one is silent or has under 0.5 s of speech; a warning
 * when one has under 1 s, or when no reference has a voiced frame. */
VC_WARN_UNUSED vc_status vc_voice_from_audio(const vc_model *m, const vc_audio *refs, int n_refs,
                                             vc_voice *out);
void vc_voice_free(vc_voice *v);

/* The content space frame matching compares frames in (both are stored in every voice):
 *   VC_MATCH_Z       the content encoder's continuous output before quantisation (one vector
 *                    per code, repeated to both of its frames)
 *   VC_MATCH_HIDDEN  its last frame-rate hidden state, instance-normalised over the sliding
 *                    window the encoder normalises with */
typedef enum vc_match_space { VC_MATCH_Z = 0, VC_MATCH_HIDDEN = 1 } vc_match_space;

typedef struct vc_convert_params {
    int auto_pitch; /* 1 (default): the source's contour in the voice's range */
    float
        pitch_shift; /* when auto_pitch == 0: the source's own pitch moved by this many semitones */
    int harmonic;    /* read when world_vocoder is 0. 1 (default): the spectrum's envelope
                      * times harmonics drawn at the converted F0, mixed with noise by the
                      * voicing (source-filter), then Griffin-Lim;
                      * 0: Griffin-Lim on the model's spectrum as it is */
    int world_vocoder;  /* 1 (default): the WORLD source-filter renderer (envelope, band
                         * aperiodicity, F0); harmonic is then not read. 0: harmonic decides */
    int match_dynamics; /* 1 (default): stretch the model's over-smoothed spectral dynamics to the
                         * voice's (per-bin log-magnitude std over time; never shrunk) */
    float match;        /* 0..1 (default 1): each output frame's envelope and aperiodicity from
                         * the match_k reference frames nearest in content (cosine), blended in the
                         * log domain with the decoder's by this strength; needs voice->frames */
    int match_k;        /* neighbours averaged (default 4); the voice needs at least this many */
    vc_match_space match_space; /* default VC_MATCH_HIDDEN */
    int retrieval;       /* 1 (default): a model trained with a retrieval input (config "retrieval")
                          * reads, for each frame, the match_k voice frames nearest in content
                          * (match_space); 0: it decodes without them. Needs voice->frames. */
    float content_blend; /* 0..1: what the decoder reads as content: 0 the codebook's codes (the
                          * quantised bottleneck), 1 the content encoder's continuous output
                          * before quantisation, between: code + content_blend (output - code).
                          * Default 0.75 (docs/convert.md, "Codes or continuous content") */
    float match_decoded; /* 0..1: how frame matching chooses a frame's neighbours: 0 by content
                          * (match_space) alone; w > 0 by (1 - w) the content similarity plus w
                          * that of the decoder's output for the frame (its log-mel, in the
                          * voice) to the reference frames' log-mel. Default 0.5
                          * (docs/convert.md, "Frame matching") */
    float match_residual;      /* 0..1: what frame matching takes from the neighbours: 0 their
                                * envelopes; r > 0 their envelopes less r times the decoder's own
                                * rendering of them in the voice, added to the decoder's output: at 1
                                * the decoder keeps the frame's content and the neighbours correct
                                * only its voice. Default 0.5 (docs/evaluation.md, "The envelope
                                * fine-tune bundled") */
    vc_vocoder_params vocoder; /* Griffin-Lim: iters 32, momentum 0.99, seed 1 (progress unused) */
    double chunk_seconds;      /* speech converted per chunk (default 10): bounds memory */
    vc_progress_fn progress;   /* after each chunk, when set */
    void *progress_user;
} vc_convert_params;

vc_convert_params vc_convert_default_params(void);

/* The source's words in the voice. The source (any rate) is levelled to the model's working level
 * and trimmed of silence; the speech is converted in chunks with context and crossfades, brought
 * back to the source's loudness (peaks above -1 dBFS rounded off by a soft limiter) and put back at
 * its place: *out has the source's duration at the model's rate, silent where the source was
 * (free with vc_audio_free). VC_ERR_AUDIO when the source is silent. The model is only read:
 * several threads may convert at once with one loaded model (each call makes its own FFTW plans
 * and scratch, once; the library serialises FFTW's planner, which is not thread-safe). */
VC_WARN_UNUSED vc_status vc_convert(const vc_model *m, const vc_audio *source,
                                    const vc_voice *voice, const vc_convert_params *p,
                                    vc_audio *out);

/* A reusable conversion state for one thread: the front end's and the vocoder's FFTW plans, the
 * model workspace and every chunk array, made once for p's chunk length and vocoder (a full
 * chunk, whatever the source's length; chunk_seconds at most 600). vc_converter_run converts as
 * vc_convert(m, source, voice, p, out) does, to the same bytes, without allocating them again
 * (frame matching's similarity scratch, sized by the voice's frames, is made per run).
 * Several threads may each run their own converter with one model. */
typedef struct vc_converter vc_converter;
VC_WARN_UNUSED vc_status vc_converter_init(const vc_model *m, const vc_convert_params *p,
                                           vc_converter **out);
VC_WARN_UNUSED vc_status vc_converter_run(vc_converter *c, const vc_audio *source,
                                          const vc_voice *voice, vc_audio *out);
void vc_converter_free(vc_converter *c);

/* The content codes of a, as vc_convert computes them (levelled, trimmed, in chunks of
 * chunk_seconds with context): *codes (n_codes, malloc'd, free with free()), one code in
 * [0, vc_model_codebook_size) per two frames of the trimmed speech, which starts near frame
 * *first_frame of a at the model's rate and hop (the trim starts within a hop of it; may be
 * NULL). VC_ERR_AUDIO when silent. */
VC_WARN_UNUSED vc_status vc_encode(const vc_model *m, const vc_audio *a, double chunk_seconds,
                                   int **codes, int *n_codes, int *first_frame);

/* Audio for a code sequence alone (n_codes in [1, 4096], two frames each), decoded with the
 * voice at a level pitch (its mean F0, fully voiced): what a code, or a run of codes, sounds
 * like. At -24 dBFS active level, the model's rate. p: its vocoder fields and harmonic. */
VC_WARN_UNUSED vc_status vc_synthesize_codes(const vc_model *m, const int *codes, int n_codes,
                                             const vc_voice *voice, const vc_convert_params *p,
                                             vc_audio *out);

/* ------------------------------------------------------------- codec */

/* A very-low-bitrate speech codec on the model (docs/codec.md): the .vcq stream holds the
 * content codes (range-coded, from the model's code prior when it has one), a coarse F0 and
 * voicing track, the speaker embedding (quantised to half its RMS, range-coded), and a hash of
 * the model, which decoding requires. */
typedef struct vc_codec_stats {
    double seconds; /* the input's duration */
    int n_codes;    /* content codes of its speech span */
    int prior;      /* 1: the codes were coded from the model's code prior */
    size_t bytes;   /* the whole stream */
    size_t header_bytes, speaker_bytes, codes_bytes, pitch_bytes; /* its parts */
} vc_codec_stats;

/* The hash a stream names its model by: FNV-1a 64 over the model's config JSON, parameters and
 * code prior (when it has one). */
VC_WARN_UNUSED vc_status vc_codec_model_hash(const vc_model *m, uint64_t *out);

/* The code prior: the model file's metadata entry VC_CODEC_PRIOR_KEY, the corpus count of each
 * code (codebook size decimal integers, comma-separated). Without it the codes are coded from
 * flat, adaptive counts. vc_codec_save_with_prior writes the model to path (as vc_model_save,
 * F32) with counts (codebook size of them) as its prior. */
#define VC_CODEC_PRIOR_KEY "vconv.codec_prior"
VC_WARN_UNUSED vc_status vc_codec_save_with_prior(const vc_model *m, const char *path,
                                                  const uint64_t *counts);

/* a (any rate) to a stream: *bytes (malloc'd, *n long; free with free()). The codes are
 * vc_encode's (chunk_seconds as there), the F0 the front end's, the speaker embedding
 * vc_voice_from_audio's of a itself. stats may be NULL. VC_ERR_AUDIO when a is silent. */
VC_WARN_UNUSED vc_status vc_codec_encode(const vc_model *m, const vc_audio *a, double chunk_seconds,
                                         uint8_t **bytes, size_t *n, vc_codec_stats *stats);

/* Reads a stream's parts without decoding audio (stats may be NULL): VC_ERR_FORMAT,
 * VC_ERR_VERSION with a log line, VC_ERR_SHAPE (logged) when the stream names another model. */
VC_WARN_UNUSED vc_status vc_codec_check(const vc_model *m, const uint8_t *bytes, size_t n,
                                        vc_codec_stats *stats);

/* A stream to a file (temp file + rename: a failure leaves nothing) and a whole file read back
 * (VC_ERR_IO with a log line naming it). */
VC_WARN_UNUSED vc_status vc_codec_save(const char *path, const uint8_t *bytes, size_t n);
VC_WARN_UNUSED vc_status vc_codec_load(const char *path, uint8_t **bytes, size_t *n);
/* The same from an open file descriptor to its end (standard input: 0); name is for log lines. */
VC_WARN_UNUSED vc_status vc_codec_read(int fd, const char *name, uint8_t **bytes, size_t *n);

/* A stream back to audio at the model's rate with the input's duration and level. voice NULL:
 * the stream's own speaker embedding and pitch; else that voice (pitch moved into its range as
 * p->auto_pitch says). p: vc_convert's parameters; frame matching (p->match) and the content
 * blend (p->content_blend) are not used, since the stream holds codes only; match dynamics
 * only with a voice. Errors as vc_codec_check. */
VC_WARN_UNUSED vc_status vc_codec_decode(const vc_model *m, const uint8_t *bytes, size_t n,
                                         const vc_voice *voice, const vc_convert_params *p,
                                         vc_audio *out);

/* ------------------------------------------------------------- codebook */

/* The codebook's geometry. nn: the nearest other code (Euclidean). pca: each code's coordinates
 * on the two leading principal axes of the codebook (deterministic power iteration), and the
 * share of the codebook's variance each axis explains. */
typedef struct vc_codebook_geometry {
    int n, dim;
    float *norms;        /* (n) */
    float *nn_dist;      /* (n) */
    int *nn_index;       /* (n) */
    float *pca;          /* (n, 2) */
    double pca_share[2]; /* 0..1 */
} vc_codebook_geometry;

VC_WARN_UNUSED vc_status vc_codebook_geometry_of(const vc_model *m, vc_codebook_geometry *out);
void vc_codebook_geometry_free(vc_codebook_geometry *g);

/* Audio files under folders, found as vconv train finds them: recursively, in sorted order,
 * by extension; speaker = the first folder level under each folder, named "<folder>/<speaker>".
 * VC_ERR_IO for a missing folder, VC_ERR_AUDIO when no audio is found. */
typedef struct vc_file_list {
    int n;
    const char *const *paths; /* (n) */
    const int *speaker;       /* (n) index into speakers */
    int n_speakers;
    const char *const *speakers; /* (n_speakers) */
    void *priv;
} vc_file_list;

VC_WARN_UNUSED vc_status vc_list_audio(const char *const *dirs, int n_dirs, vc_file_list *out);
void vc_file_list_free(vc_file_list *l);

typedef struct vc_code_stats {
    int codebook_size;
    long total;          /* codes counted */
    int used;            /* codes seen at least once */
    double entropy_bits; /* of the usage distribution, per code */
    double perplexity;   /* 2^entropy: the number of equally used codes it amounts to */
    int speakers;        /* speakers given (0: none) */
    double mi_bits;      /* mutual information between code and speaker */
    double nmi;          /* 2 I / (H(code) + H(speaker)), 0..1: 0 independent, 1 determined */
    double nmi_shuffled; /* the same with speakers permuted across utterances: the floor that
                          * finite data alone gives */
} vc_code_stats;

/* Statistics of n_utts code sequences (codes[u], n_codes[u] each in [0, codebook_size)) and, when
 * speaker is not NULL, their speakers (speaker[u] >= 0). seed drives the shuffled control. */
VC_WARN_UNUSED vc_status vc_code_stats_compute(const int *const *codes, const int *n_codes,
                                               const int *speaker, int n_utts, int codebook_size,
                                               uint64_t seed, vc_code_stats *out);

/* ------------------------------------------------------------ phone labels */

/* Time-aligned phone labels of one recording (docs/codebook.md): a Praat TextGrid (long or short
 * text format, UTF-8; the interval tier named "phones", "phone" or "phonemes", else the only
 * interval tier) or lines "start end phone" in seconds ('#' comment lines). Empty intervals are
 * left out; segments are sorted by start. */
#define VC_PHONE_NAME_MAX 32 /* bytes of a phone name, with its NUL */
typedef struct vc_phone_segment {
    double start, end; /* seconds, 0 <= start <= end */
    char phone[VC_PHONE_NAME_MAX];
} vc_phone_segment;

typedef struct vc_phone_labels {
    vc_phone_segment *segments; /* (n) */
    int n;
} vc_phone_labels;

/* text (n bytes, not NUL-terminated) into *out: VC_ERR_FORMAT with a log line saying what is
 * wrong (a bad number, a name over 31 bytes, end before start, UTF-16, over 64 MB, ...). */
VC_WARN_UNUSED vc_status vc_phone_labels_parse(const char *text, size_t n, vc_phone_labels *out);
/* The file at path: VC_ERR_IO or VC_ERR_FORMAT, each with a log line naming it. */
VC_WARN_UNUSED vc_status vc_phone_labels_load(const char *path, vc_phone_labels *out);
void vc_phone_labels_free(vc_phone_labels *l);

/* The label file of audio file audio in folder dir, into buf (size bytes):
 * dir/<folder>/<stem>.<ext>, folder being the name of the folder the audio is in (the speaker's, in
 * a corpus: utterance names repeat across speakers), then dir/<stem>.<ext>, ext TextGrid, lab or
 * txt in that order. 1 when one is found and readable, else 0. */
int vc_phone_labels_find(const char *dir, const char *audio, char *buf, size_t size);

/* 1 for silence and non-speech as aligners and recognisers name them (TIMIT h#, HTK sil/sp,
 * MFA sil/spn, PocketSphinx SIL and +NOISE+ fillers, any case): not phones. */
int vc_phone_is_silence(const char *name);
/* Removes an ARPAbet stress digit in place (AH0, AH1, AH2 -> AH: one digit 0-2 after a letter),
 * so a phone is one entry whatever its stress. */
void vc_phone_strip_stress(char *name);

/* For each of n_codes codes of vc_encode (first_frame as it gives), the index into l->segments of
 * the segment covering the code's centre, by the model's own hop; -1 where none does. */
VC_WARN_UNUSED vc_status vc_phone_labels_at_codes(const vc_model *m, const vc_phone_labels *l,
                                                  int first_frame, int n_codes, int *seg);

/* How codes and phones go together, over n_utts utterances: codes[u] (n_codes[u] each, in
 * [0, codebook_size), codebook_size at most 65536) and phones[u] (the same length, in
 * [0, n_phones), n_phones at most 4096, or -1 where a code has no phone, which is left out).
 * Free with vc_code_phone_stats_free (also after a failure: *out is zeroed). */
typedef struct vc_code_phone_stats {
    int codebook_size, n_phones;
    long total;          /* codes with a phone */
    long *joint;         /* (codebook_size, n_phones) counts */
    int *code_phone;     /* (codebook_size) each code's most frequent phone, -1 if never seen */
    double *code_purity; /* (codebook_size) share of the code's uses on that phone, 0 if unseen */
    double purity;       /* share of all codes on their code's most frequent phone */
    double mi_bits;      /* mutual information between code and phone */
    double nmi;          /* 2 I / (H(code) + H(phone)), 0..1 */
    double nmi_shuffled; /* the same with each utterance's phone track rotated in time by a
                          * random offset (seeded): alignment gone, the phones' own statistics
                          * kept; the floor that finite data alone gives */
} vc_code_phone_stats;

VC_WARN_UNUSED vc_status vc_code_phone_stats_compute(const int *const *codes,
                                                     const int *const *phones, const int *n_codes,
                                                     int n_utts, int codebook_size, int n_phones,
                                                     uint64_t seed, vc_code_phone_stats *out);
void vc_code_phone_stats_free(vc_code_phone_stats *s);

/* ------------------------------------------------------------ anomaly score */

/* One span of a scored file: its mean frame error over [start_s, end_s) seconds of the file. */
typedef struct vc_score_span {
    double start_s, end_s;
    double error;
} vc_score_span;

/* How well the model reconstructs a recording (docs/score.md). The speech is levelled and
 * trimmed as vc_convert does, encoded to content codes in chunks of chunk_seconds with context,
 * and decoded with its own speaker embedding and pitch; a frame's error is the mean absolute
 * difference over the mel bands between the normalised log-mel input and the decoder's output
 * (the mel term of the training loss). Speech like the model's training data reconstructs well;
 * noise, clipping, music and other non-speech do less well. Raw errors depend on the model:
 * compare them with the same model's errors on clean speech. */
typedef struct vc_score {
    double error;          /* mean frame error over the speech span */
    int n_frames;          /* frames of the speech span */
    float *frame_error;    /* (n_frames) */
    int first_frame;       /* the span's first frame in the file, in model hops */
    double frame_seconds;  /* hop / sample rate */
    double speech_seconds; /* length of the speech span */
    vc_score_span *spans;  /* (n_spans) seconds of the span in order; a last piece under half a
                            * second joins the one before */
    int n_spans;
} vc_score;

/* a at any rate. VC_ERR_AUDIO (with a log line) when it is silent or holds no speech span;
 * chunk_seconds in (0, 600]. The model is only read: threads may score at once. Free with
 * vc_score_free (also after a failure: *out is zeroed). */
VC_WARN_UNUSED vc_status vc_score_audio(const vc_model *m, const vc_audio *a, double chunk_seconds,
                                        vc_score *out);
void vc_score_free(vc_score *s);

/* ------------------------------------------------------------- training */

/* One line of training progress, reported every log_every steps and after each validation. */
typedef struct vc_train_report {
    long step, steps;              /* steps done, steps planned */
    double loss, mel, lin, commit; /* training losses, mean over the last log_every steps */
    double val_loss;               /* last validation loss (mel + lin L1), < 0 before the first */
    double perplexity;             /* codebook perplexity over the last log_every steps */
    int codes_used, codebook_size;
    double lr, seconds_per_step, frames_per_second;
    int is_validation; /* 1 when this report follows a validation pass */
    /* conversion consistency losses (unweighted means over the window; cycle 0 when off) */
    int cycle;
    double cycle_content, cycle_speaker;
    /* adversarial training's losses (unweighted means over the window; adversarial 0 when off):
     * the discriminator's on real and decoded spectrograms, the decoder's adversarial and
     * feature-matching terms */
    int adversarial;
    double disc_real, disc_fake, gen_adv, gen_fm;
    /* the phone loss (phone_loss 0 when off): mean cross-entropy and accuracy of the phone head
     * over the window's labelled code positions, and the share of positions labelled */
    int phone_loss;
    double phone_xent, phone_accuracy, phone_labelled;
} vc_train_report;

typedef void (*vc_train_report_fn)(const vc_train_report *r, void *user);

typedef struct vc_train_params {
    const char *const *data_dirs; /* corpus folders; speaker = first folder level */
    int n_data_dirs;
    const char *out_model;   /* model file, written when the run ends (not at checkpoints) */
    const char *checkpoint;  /* checkpoint file (default: out_model + ".ckpt") */
    const char *resume;      /* checkpoint to resume from, or NULL */
    const char *init_model;  /* start a fresh run from this model file's parameters and data
                                statistics (tensors matched by name and shape; new ones keep
                                their initialisation) instead of random ones; or NULL. Not
                                read on resume: the checkpoint holds the run's own state */
    const char *cache_dir;   /* feature cache (default: out_model's folder + "/.vconv-cache") */
    const char *log_path;    /* JSON-lines log (default: out_model + ".log.jsonl"), "" for none */
    const char *preset;      /* "tiny" or "default" (default "default") */
    const char *config_json; /* JSON text overriding the preset, or NULL */
    /* Run settings. On resume they must equal the checkpoint's (VC_ERR_ARG, checked before the
     * corpus is read): vc_train_resume_params copies them from it. Only steps may differ there:
     * a resume may move the end of the run (the cosine schedule follows the new end). */
    long steps;                                 /* default 20000 */
    int batch;                                  /* default 16 */
    int segment_frames;                         /* content segment T, even; default 128 */
    float lr;                                   /* default 3e-4 */
    int warmup;                                 /* default 1000 steps */
    float clip;                                 /* global gradient-norm clip, default 1.0 */
    float val_share;                            /* default 0.05 */
    int val_every, checkpoint_every, log_every; /* defaults 500, 1000, 50 */
    uint64_t seed;                              /* default 1 */
    /* Training data for unseen voices (docs/model.md); < 0: the preset's default (on for
     * "default", off for "tiny"). speaker_utterance 1: the speaker branch reads another
     * utterance of the same speaker where the corpus has one. augment_*: speaker augmentation
     * of the content encoder's input only: frequency warp by a factor in [1 - w, 1 + w], a
     * pitch-like shift of up to +-augment_pitch semitones, a random smooth EQ of up to
     * +-augment_eq_db dB; 0 turns each off. */
    int speaker_utterance;
    float augment_warp, augment_pitch, augment_eq_db;
    /* Denoising training (docs/model.md): each encoder input (content and speaker) of a batch
     * item is corrupted with this probability (noise at 0-20 dB SNR: white, pink or babble;
     * light reverberation half the time) while the targets stay clean. 0 off, in [0, 1];
     * < 0: not given (off; on resume, the checkpoint's). Independent of the preset. */
    float denoise;
    /* Decoder training on continuous content (docs/model.md): with this probability a batch
     * item's decoder reads code + a (z - code), a drawn uniformly in [0, 1], instead of its
     * codes (z: the content encoder's continuous output), so it learns to render what
     * vc_convert_params.content_blend gives it. 0 off, in [0, 1]; < 0: not given (off; on
     * resume, the checkpoint's). Independent of the preset. */
    float continuous_content;
    /* Conversion consistency (docs/model.md): each batch item's content is also decoded in
     * another item's voice and the result read back through both encoders; the decoder alone
     * learns from it: cycle_content weighs the mean squared distance of the re-encoded content
     * to the item's own (keep the words), cycle_speaker that of the re-encoded voice to the
     * voice asked for (take the voice). Weights >= 0, 0 off; < 0: not given (off; on resume,
     * the checkpoint's). Independent of the preset. */
    float cycle_content, cycle_speaker;
    /* Adversarial training of the decoder's output (docs/model.md): a small discriminator on the
     * linear log-magnitude learns to tell the decoded spectrograms from the real ones (LSGAN),
     * and the decoder learns, with this weight beside its L1 losses, to fool it and to match its
     * features on the real spectrogram, which rewards sharp spectra where L1 rewards the
     * average. Weight >= 0, 0 off; < 0: not given (off; on resume, the checkpoint's).
     * Independent of the preset. */
    float adversarial;
    /* Phone loss (docs/model.md): a phone classifier on the content encoder's output (the
     * model's phone head, config phone_head, added when off in the config) learns the phones of
     * time-aligned labels, and the content encoder with it, with this weight beside the other
     * losses, so the content the decoder reads separates the phones whoever speaks. Labels come
     * from phone_labels: a folder laid out as vconv codebook --phones reads it
     * (vc_phone_labels_find; scripts/phone_labels writes one), in ARPAbet (model/phones.h);
     * utterances without a label file are trained without the loss. Weight >= 0, 0 off; < 0: not
     * given (off; on resume, the checkpoint's, and phone_labels must be given again). */
    float phone_loss;
    const char *phone_labels;
    vc_train_report_fn report;
    void *report_user;
    vc_progress_fn progress; /* feature building, 0..1 */
    void *progress_user;
    /* When *stop becomes non-zero, the run stops after the current step: the checkpoint is
     * written, the model only with save_on_interrupt, and vc_train returns VC_OK with
     * *stopped = 1 (stopped may be NULL; it is set to 0 when the run completes). */
    volatile int *stop;
    int save_on_interrupt;
    int *stopped;
    /* Data-parallel training (docs/cluster.md): started by an MPI launcher (mpirun -np N, srun),
     * a build with MPI splits every batch of `batch` segments over the N processes. Rank 0
     * alone reports, logs and writes the checkpoint and the model; the feature cache is built
     * in shares. When rank is not NULL, vc_train sets it to this process's rank (0 without
     * MPI). */
    int *rank;
} vc_train_params;

vc_train_params vc_train_default_params(void);

/* Scans the corpus, builds or reuses cached features, trains (or resumes) and writes the model.
 * Returns VC_OK also when stopped through *stop (see there). */
VC_WARN_UNUSED vc_status vc_train(const vc_train_params *p);

/* The checkpoint file a run with these params writes (p->checkpoint, else out_model + ".ckpt"),
 * malloc'd; NULL without out_model or memory. */
char *vc_train_checkpoint_path(const vc_train_params *p);

/* Copies the run settings of checkpoint ckpt into *p (steps, batch, segment_frames, lr, warmup,
 * clip, val_share, seed, val_every, checkpoint_every, log_every and the training-data options;
 * a checkpoint written before some were recorded leaves those as they are). VC_ERR_IO,
 * VC_ERR_FORMAT, VC_ERR_VERSION (not a checkpoint) with a log line naming the file. */
VC_WARN_UNUSED vc_status vc_train_resume_params(const char *ckpt, vc_train_params *p);

#ifdef __cplusplus
}
#endif
#endif
