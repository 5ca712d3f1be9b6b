/* edgecraft device loop in C: the twin of device/ring.py's Windower (windows of `window`
 * samples every `stride`), device/stream.py's StreamLoop (duty cycling, the model's scores as
 * probabilities) and device/postprocess.py's Detector (smoothing, threshold, consecutive hits,
 * suppression). Every comparison and mean is computed as the Python loop computes it (double
 * where Python uses float64, float where it uses float32), so the two report the same
 * detections from the same scores. No dynamic allocation: the caller owns every buffer. */
#ifndef EC_STREAM_H
#define EC_STREAM_H
#include <stdint.h>

/* ---- post-processing (device/postprocess.py) ------------------------------------- */
typedef struct {
    int labels;
    const uint8_t *candidate; /* [labels] 1: may be reported (not silence, unknown, ...) */
    int smooth_len;           /* inferences averaged: round(smoothing_s / stride_s), at least 1 */
    double threshold;         /* on the averaged score */
    double suppression_s;     /* no detection closer than this to the previous one */
    int min_count;            /* consecutive hits of one label needed */
} ec_post_config;

typedef struct {
    const ec_post_config *cfg;
    float *history; /* [smooth_len][labels], the newest scores */
    int filled;     /* score vectors held (at most smooth_len) */
    int next;       /* row the next vector goes to */
    double last_time;
    int run_label;
    int run_count;
} ec_detector;

void ec_detector_init(ec_detector *d, const ec_post_config *cfg, float *history);
/* Forget the smoothing history (after a gap in the stream). */
void ec_detector_reset(ec_detector *d);
/* Feed one inference's scores at time_s; returns the detected label or -1. *score gets the
 * averaged score of the best candidate label. */
int ec_detector_update(ec_detector *d, double time_s, const float *scores, double *score);

/* Scores as probabilities (device/stream.py's ModelRunner): when some score is below -1e-6 or
 * their float32 sum (NumPy's pairwise order) is off 1 by more than 0.05, a softmax (its exp
 * within 2 ulp of NumPy's: the classifiers edgecraft trains end in SOFTMAX and never get here). */
void ec_scores_as_probabilities(float *scores, int n);
/* round(x / scale) + zero_point, half to even (np.round), clamped to int8 (dsp/quantize.py). */
int8_t ec_quantize_int8(float x, float scale, int zero_point);
/* np.sum of a contiguous float32 vector, in NumPy's order (pairwise summation). */
float ec_numpy_sum(const float *x, int n);
/* Index of the largest score (the first of equal ones). */
int ec_argmax(const float *scores, int n);

/* ---- windows over a sample stream (device/ring.py) ------------------------------- */
typedef void (*ec_window_fn)(void *ctx, uint32_t end, const void *window);

typedef struct {
    int window;       /* samples per window */
    int stride;       /* new samples between windows */
    int sample_bytes; /* bytes per sample (all channels) */
    uint8_t *buf;     /* [window * sample_bytes] */
    int filled;       /* samples in buf */
    int skip;         /* samples still to drop (stride > window) */
    uint32_t total;   /* samples pushed since the start */
} ec_windower;

void ec_windower_init(ec_windower *w, int window, int stride, int sample_bytes, uint8_t *buf);
/* Push n samples; calls fn(ctx, end, window) for each window they complete, `end` being one
 * past the window's last sample counted from the start of the stream. */
void ec_windower_push(ec_windower *w, const void *samples, int n, ec_window_fn fn, void *ctx);

#endif
