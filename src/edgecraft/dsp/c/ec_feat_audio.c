/* Audio front end: framing, windowed FFT magnitude, mel filterbank, log, DCT-II.
 * The C twin of edgecraft.dsp.audio; tables come from the generated config. */
#include "ec_features.h"

int ec_audio_num_frames(const ec_audio_config *cfg, int n)
{
    int len = cfg->clip_samples > 0 ? cfg->clip_samples : n;
    if (len < cfg->window_samples) {
        return 0;
    }
    return 1 + (len - cfg->window_samples) / cfg->hop_samples;
}

int ec_audio_features(const ec_audio_config *cfg, const int16_t *pcm, int n, float *scratch,
                      float *out)
{
    float *re = scratch;                      /* [fft_size] */
    float *im = scratch + cfg->fft_size;      /* [fft_size] */
    float *mel = scratch + 2 * cfg->fft_size; /* [mel_bins] */
    int frames = ec_audio_num_frames(cfg, n);
    int avail = (cfg->clip_samples > 0 && cfg->clip_samples < n) ? cfg->clip_samples : n;
    float peak = 1.0f;
    int f, i, m, c;

    if (cfg->peak_normalize && avail > 0) {
        int16_t top = pcm[0];
        for (i = 1; i < avail; i++) {
            if (pcm[i] > top) {
                top = pcm[i];
            }
        }
        if (top > 0) {
            peak = (float)top * cfg->input_scale;
        }
    }
    for (f = 0; f < frames; f++) {
        int start = f * cfg->hop_samples;
        /* frame * window, zero-padded to fft_size */
        for (i = 0; i < cfg->fft_size; i++) {
            float x = 0.0f;
            if (i < cfg->window_samples && start + i < avail) {
                x = (float)pcm[start + i] * cfg->input_scale;
                if (cfg->peak_normalize) {
                    x = x / peak;
                }
                x = x * cfg->window[i];
            }
            re[i] = x;
        }
        ec_rfft(re, im, cfg->fft_size, cfg->twiddle_cos, cfg->twiddle_sin);
        /* magnitude of bins 0..fft_size/2, kept in re[] */
        for (i = 0; i <= cfg->fft_size / 2; i++) {
            float p = re[i] * re[i] + im[i] * im[i];
            re[i] = cfg->magnitude_power == 2 ? p : ec_sqrtf(p);
        }
        /* mel filterbank (sparse triangles), then log */
        for (m = 0; m < cfg->mel_bins; m++) {
            const float *w = cfg->mel_weights + cfg->mel_offset[m];
            const float *s = re + cfg->mel_first[m];
            float acc = 0.0f;
            for (i = 0; i < cfg->mel_count[m]; i++) {
                acc += s[i] * w[i];
            }
            mel[m] = ec_logf(acc + cfg->log_offset);
        }
        /* DCT-II (MFCC) or the log-mel values themselves */
        for (c = 0; c < cfg->num_out; c++) {
            float acc = 0.0f;
            if (cfg->dct == 0) {
                acc = mel[c];
            } else {
                for (m = 0; m < cfg->mel_bins; m++) {
                    acc += mel[m] * cfg->dct[m * cfg->num_out + c];
                }
            }
            out[f * cfg->num_out + c] = acc;
        }
    }
    return frames;
}
