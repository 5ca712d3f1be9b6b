/* Image preprocessing: center crop, bilinear resize (half-pixel centers), grayscale or RGB,
 * (x - mean) / std, int8 quantization. The C twin of edgecraft.dsp.image.ImagePreprocess. */
#include "ec_features.h"

static const float ec_luma[3] = {0.299f, 0.587f, 0.114f};

static float ec_clampf(float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

void ec_image_preprocess(const ec_image_config *cfg, const uint8_t *img, int h, int w, int c,
                         int8_t *out)
{
    int y0c = 0, x0c = 0, ch = h, cw = w;
    int oy, ox, k;
    if (cfg->crop) {
        /* largest centered crop with the target aspect ratio, rounded half up */
        if ((long)w * cfg->height > (long)cfg->width * h) {
            cw = (int)((2L * h * cfg->width + cfg->height) / (2L * cfg->height));
            cw = cw < 1 ? 1 : cw;
            x0c = (w - cw) / 2;
        } else {
            ch = (int)((2L * w * cfg->height + cfg->width) / (2L * cfg->width));
            ch = ch < 1 ? 1 : ch;
            y0c = (h - ch) / 2;
        }
    }
    for (oy = 0; oy < cfg->height; oy++) {
        float sy = ec_clampf(((float)oy + 0.5f) * ((float)ch / (float)cfg->height) - 0.5f, 0.0f,
                             (float)(ch - 1));
        int y0 = (int)sy;
        int y1 = y0 + 1 < ch ? y0 + 1 : ch - 1;
        float fy = sy - (float)y0;
        for (ox = 0; ox < cfg->width; ox++) {
            float sx = ec_clampf(((float)ox + 0.5f) * ((float)cw / (float)cfg->width) - 0.5f, 0.0f,
                                 (float)(cw - 1));
            int x0 = (int)sx;
            int x1 = x0 + 1 < cw ? x0 + 1 : cw - 1;
            float fx = sx - (float)x0;
            float px[3];
            for (k = 0; k < c; k++) {
                const uint8_t *r0 = img + ((long)(y0c + y0) * w + x0c) * c + k;
                const uint8_t *r1 = img + ((long)(y0c + y1) * w + x0c) * c + k;
                float top = (float)r0[x0 * c] * (1.0f - fx) + (float)r0[x1 * c] * fx;
                float bottom = (float)r1[x0 * c] * (1.0f - fx) + (float)r1[x1 * c] * fx;
                px[k] = top * (1.0f - fy) + bottom * fy;
            }
            if (cfg->channels == 1 && c == 3) {
                px[0] = px[0] * ec_luma[0] + px[1] * ec_luma[1] + px[2] * ec_luma[2];
            } else if (cfg->channels == 3 && c == 1) {
                px[1] = px[0];
                px[2] = px[0];
            }
            for (k = 0; k < cfg->channels; k++) {
                float v = (px[k] - cfg->mean[k]) / cfg->std[k];
                ec_quantize_i8(&v, 1, cfg->scale, cfg->zero_point,
                               out + ((long)oy * cfg->width + ox) * cfg->channels + k);
            }
        }
    }
}
