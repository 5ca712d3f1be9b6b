/* Motion front end: per-axis statistics and spectral features of one window.
 * The C twin of edgecraft.dsp.motion.window_features. */
#include "ec_features.h"

void ec_motion_features(const ec_motion_config *cfg, const float *x, float *scratch, float *out)
{
    int n = cfg->window_samples;
    int half = cfg->fft_size / 2;
    int width = half / cfg->fft_bins;
    float *re = scratch;                      /* [fft_size] */
    float *im = scratch + cfg->fft_size;      /* [fft_size] */
    float *mag = scratch + 2 * cfg->fft_size; /* [fft_size/2]: bins 1..fft_size/2 */
    int a, i, b, p;

    for (a = 0; a < cfg->axes; a++) {
        float *o = out + a * (5 + cfg->fft_bins + cfg->peaks);
        float sum = 0.0f, sq = 0.0f, var = 0.0f, lo = x[a], hi = x[a], mean;
        for (i = 0; i < n; i++) {
            float v = x[i * cfg->axes + a];
            sum += v;
            sq += v * v;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        mean = sum / (float)n;
        for (i = 0; i < n; i++) {
            float d = x[i * cfg->axes + a] - mean;
            var += d * d;
        }
        o[0] = mean;
        o[1] = ec_sqrtf(var / (float)n);
        o[2] = lo;
        o[3] = hi;
        o[4] = ec_sqrtf(sq / (float)n);
        /* spectrum of the window without its mean, zero-padded to fft_size */
        for (i = 0; i < cfg->fft_size; i++) {
            re[i] = i < n ? x[i * cfg->axes + a] - mean : 0.0f;
        }
        ec_rfft(re, im, cfg->fft_size, cfg->twiddle_cos, cfg->twiddle_sin);
        for (i = 0; i < half; i++) {
            mag[i] = ec_sqrtf(re[i + 1] * re[i + 1] + im[i + 1] * im[i + 1]);
        }
        for (b = 0; b < cfg->fft_bins; b++) {
            float acc = 0.0f;
            for (i = 0; i < width; i++) {
                acc += mag[b * width + i];
            }
            o[5 + b] = acc;
        }
        /* strongest bins, ties to the lower frequency; chosen bins are marked with -1 */
        for (p = 0; p < cfg->peaks; p++) {
            int best = 0;
            for (i = 1; i < half; i++) {
                if (mag[i] > mag[best]) {
                    best = i;
                }
            }
            o[5 + cfg->fft_bins + p] = (float)(best + 1) * (cfg->sample_rate / (float)cfg->fft_size);
            mag[best] = -1.0f;
        }
    }
}
