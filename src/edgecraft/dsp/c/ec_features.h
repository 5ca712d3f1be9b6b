/* edgecraft feature front ends: the C twins of edgecraft.dsp (audio, motion, image,
 * micro_speech, str_ww log-mel).
 *
 * Float arithmetic (for cores with an FPU), except micro_speech: integers only, bit for bit
 * TFLite Micro's. Every parameter lives in a const config struct
 * that edgecraft generates from the Python preset (ec_<preset>.c), so the C and Python front
 * ends share their tables bit for bit. No function keeps state: scratch memory is passed in.
 * No libm: the few math functions needed are in ec_feat_fft.c.
 */
#ifndef EC_FEATURES_H
#define EC_FEATURES_H

#include <stdint.h>

/* In-place radix-2 complex FFT of n points (n a power of two). cos_t[k] = cos(2 pi k / n),
 * sin_t[k] = sin(2 pi k / n) for k < n/2; computes X[k] = sum x[j] exp(-2 pi i j k / n). */
void ec_fft(float *re, float *im, int n, const float *cos_t, const float *sin_t);

/* FFT of n real samples re[0..n-1] through one n/2-point complex FFT (same n-point tables);
 * returns X[0..n/2] in re[] and im[] (im needs n/2 + 1 entries). */
void ec_rfft(float *re, float *im, int n, const float *cos_t, const float *sin_t);

/* Float math without libm: sqrt (x times 1/sqrt(x) from 3 Newton steps), natural log (atanh series, a few ulp),
 * round half to even (exact). */
float ec_sqrtf(float x);
float ec_logf(float x);
float ec_roundf_even(float x);

/* q = clamp(round_half_even(x / scale) + zero_point, -128, 127) */
void ec_quantize_i8(const float *x, int n, float scale, int zero_point, int8_t *q);

/* ---- audio: MFCC or log-mel ---------------------------------------------------------- */
typedef struct {
    int sample_rate;
    int clip_samples;      /* >0: pad/trim the input to this many samples; 0: frame all */
    int window_samples;
    int hop_samples;
    int fft_size;
    int magnitude_power;   /* 1: |X|, 2: |X|^2 */
    int mel_bins;
    int num_out;           /* coefficients (MFCC) or mel_bins (log-mel) */
    int peak_normalize;    /* 1: divide the clip by its largest sample */
    float input_scale;     /* int16 -> float factor, e.g. 1/32768 */
    float log_offset;
    const float *window;       /* [window_samples] */
    const float *twiddle_cos;  /* [fft_size/2] */
    const float *twiddle_sin;  /* [fft_size/2] */
    const int16_t *mel_first;  /* [mel_bins] first FFT bin with a nonzero weight */
    const int16_t *mel_count;  /* [mel_bins] how many bins */
    const int16_t *mel_offset; /* [mel_bins] index of the first weight in mel_weights */
    const float *mel_weights;
    const float *dct;          /* [mel_bins][num_out] row-major, NULL for log-mel */
} ec_audio_config;

/* floats of scratch ec_audio_features needs */
#define EC_AUDIO_SCRATCH(cfg) (2 * (cfg)->fft_size + (cfg)->mel_bins)

/* Frames in a clip of n samples (clip_samples when set). */
int ec_audio_num_frames(const ec_audio_config *cfg, int n);

/* Features of one clip: out[frames][num_out] float. Returns the frame count. */
int ec_audio_features(const ec_audio_config *cfg, const int16_t *pcm, int n, float *scratch,
                      float *out);

/* ---- motion: per-axis statistics and spectral bands of one window ------------------ */
typedef struct {
    float sample_rate;
    int window_samples;
    int axes;
    int fft_size;
    int fft_bins;
    int peaks;
    const float *twiddle_cos;  /* [fft_size/2] */
    const float *twiddle_sin;
} ec_motion_config;

#define EC_MOTION_SCRATCH(cfg) (2 * (cfg)->fft_size + (cfg)->fft_size / 2)
#define EC_MOTION_FEATURES(cfg) ((cfg)->axes * (5 + (cfg)->fft_bins + (cfg)->peaks))

/* One window x[window_samples][axes] -> out[axes][5 + fft_bins + peaks]:
 * mean, std, min, max, rms, band sums of |rfft(x - mean)| (DC excluded), peak frequencies. */
void ec_motion_features(const ec_motion_config *cfg, const float *x, float *scratch, float *out);

/* ---- image: crop, bilinear resize, grayscale/RGB, normalize, quantize --------------- */
typedef struct {
    int height;
    int width;
    int channels;          /* 1 or 3 */
    int crop;              /* 1: center crop to width:height first */
    const float *mean;     /* [channels] */
    const float *std;      /* [channels] */
    float scale;
    int zero_point;
} ec_image_config;

/* img[h][w][c] uint8 (c = 1 or 3) -> out[height][width][channels] int8 */
void ec_image_preprocess(const ec_image_config *cfg, const uint8_t *img, int h, int w, int c,
                         int8_t *out);

/* ---- micro_speech: TFLite Micro's front end in integer arithmetic (int8 out) ------------ */
typedef struct {
    int sample_rate;
    int clip_samples;      /* >0: pad/trim the input to this many samples; 0: frame all */
    int window_samples;
    int hop_samples;
    int fft_size;          /* power of two >= window_samples */
    int num_channels;
    int window_bits;       /* window weights are Q(window_bits) */
    int start;             /* FFT bins [start, end) feed the filter bank */
    int end;
    int energy_len;        /* energies the filter bank reads (padding has zero weights) */
    int smoothing_bits;
    int subtraction_bits;
    uint32_t even_smoothing;   /* Q(subtraction_bits) */
    uint32_t odd_smoothing;
    uint32_t min_signal;
    int clamping;
    int correction_bits;
    int log_scale_bits;
    int output_div;            /* int8 = (v * 256 + div / 2) / div - 128 */
    const int16_t *window;         /* [window_samples] */
    const int16_t *twiddles;       /* [fft_size/2][2] Q15 */
    const int16_t *super_twiddles; /* [fft_size/4][2] Q15 */
    const int16_t *freq_starts;    /* [num_channels + 1] */
    const int16_t *weight_starts;  /* [num_channels + 1] */
    const int16_t *widths;         /* [num_channels + 1] */
    const int16_t *weights;        /* Q12 */
    const int16_t *unweights;
    const int16_t *gain_lut;       /* [125] PCAN gain, piecewise quadratic */
    const int16_t *log_lut;        /* [130] log2 correction, Q16 */
} ec_micro_config;

/* int32 words of scratch: one frame's buffers, one frame of samples, the noise estimate */
#define EC_MICRO_SCRATCH(cfg) (3 * (cfg)->fft_size / 2 + 1 + (cfg)->energy_len \
                               + ((cfg)->window_samples + 1) / 2 + (cfg)->num_channels)

int ec_micro_num_frames(const ec_micro_config *cfg, int n);

/* Features of one clip, the noise estimate starting from zero: out[frames][num_channels] int8
 * (the model input). Returns the frame count. */
int ec_micro_features(const ec_micro_config *cfg, const int16_t *pcm, int n, int32_t *scratch, int8_t *out);

/* Streaming: one frame of window_samples int16 -> num_channels int8; noise[num_channels] is the
 * state kept between frames (ec_micro_reset zeroes it); scratch as for ec_micro_features. */
void ec_micro_reset(const ec_micro_config *cfg, uint32_t *noise);
void ec_micro_frame(const ec_micro_config *cfg, const int16_t *frame, int32_t *scratch, uint32_t *noise,
                    int8_t *out);

/* ---- lfbe: MLPerf Tiny str_ww log-mel energies in [0, 1] ------------------------------- */
typedef struct {
    int sample_rate;
    int clip_samples;
    int window_samples;
    int hop_samples;
    int fft_size;
    int mel_bins;
    float input_scale;     /* int16 -> float, 1/32768 */
    float preemphasis;     /* y[n] = x[n] - preemphasis * x[n-1] */
    float power_scale;     /* 1 / window_samples */
    float power_floor;
    float db_offset;
    float db_range;
    const float *window;
    const float *twiddle_cos;
    const float *twiddle_sin;
    const int16_t *mel_first;
    const int16_t *mel_count;
    const int16_t *mel_offset;
    const float *mel_weights;
} ec_lfbe_config;

#define EC_LFBE_SCRATCH(cfg) (2 * (cfg)->fft_size)

int ec_lfbe_num_frames(const ec_lfbe_config *cfg, int n);

/* Features of one clip: out[frames][mel_bins] float in [0, 1]. Returns the frame count. */
int ec_lfbe_features(const ec_lfbe_config *cfg, const int16_t *pcm, int n, float *scratch, float *out);

#endif /* EC_FEATURES_H */
