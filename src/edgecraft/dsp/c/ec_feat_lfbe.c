/* Log-mel filterbank energies of MLPerf Tiny's streaming wake word model: the C twin of
 * edgecraft.dsp.lfbe (float32). Pre-emphasis, symmetric Hamming window, power spectrum / N,
 * floor, sparse mel triangles, 10 log10, (dB + offset) / range clipped to [0, 1]. */
#include "ec_features.h"

int ec_lfbe_num_frames(const ec_lfbe_config *cfg, int n)
{
    int len = cfg->clip_samples > 0 ? cfg->clip_samples : n;
    return len < cfg->window_samples ? 0 : 1 + (len - cfg->window_samples) / cfg->hop_samples;
}

int ec_lfbe_features(const ec_lfbe_config *cfg, const int16_t *pcm, int n, float *scratch, float *out)
{
    float *re = scratch;                      /* [fft_size] */
    float *im = scratch + cfg->fft_size;      /* [fft_size] */
    int frames = ec_lfbe_num_frames(cfg, n);
    int avail = (cfg->clip_samples > 0 && cfg->clip_samples < n) ? cfg->clip_samples : n;
    const float inv_ln10 = 0.434294482f;
    int f, i, m;

    for (f = 0; f < frames; f++) {
        int start = f * cfg->hop_samples;
        for (i = 0; i < cfg->fft_size; i++) {
            float y = 0.0f;
            int s = start + i;
            if (i < cfg->window_samples && s < avail) {
                float x = (float)pcm[s] * cfg->input_scale;
                float prev = s > 0 ? (float)pcm[s - 1] * cfg->input_scale : 0.0f;
                float scaled_prev = cfg->preemphasis * prev;
                y = (x - scaled_prev) * cfg->window[i];
            }
            re[i] = y;
        }
        ec_rfft(re, im, cfg->fft_size, cfg->twiddle_cos, cfg->twiddle_sin);
        for (i = 0; i <= cfg->fft_size / 2; i++) {
            float p = (re[i] * re[i] + im[i] * im[i]) * cfg->power_scale;
            re[i] = p > cfg->power_floor ? p : cfg->power_floor;
        }
        for (m = 0; m < cfg->mel_bins; m++) {
            const float *w = cfg->mel_weights + cfg->mel_offset[m];
            const float *s = re + cfg->mel_first[m];
            float acc = 0.0f, v;
            for (i = 0; i < cfg->mel_count[m]; i++) {
                acc += s[i] * w[i];
            }
            v = (10.0f * (ec_logf(acc) * inv_ln10) + cfg->db_offset) / cfg->db_range;
            out[f * cfg->mel_bins + m] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
        }
    }
    return frames;
}
